// tml new NAME --template T [--dir PATH]: a project folder with tml.yaml, an empty dataset and a
// .gitignore. Built in a temp folder and renamed into place, so a failure leaves nothing behind.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <regex>

#include "context.h"
#include "core/atomic_file.h"
#include "core/dataset_store.h"
#include "core/errors.h"
#include "core/project_file.h"
#include "project_templates.h"

namespace tml::cli {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

struct NewOptions {
  std::string name;
  std::string template_name;
  std::string dir;
};

std::string template_names() {
  std::string names;
  for (const auto& t : project_templates()) names += (names.empty() ? "" : ", ") + std::string(t.name);
  return names;
}

int run_new(const Context& ctx, const NewOptions& o) {
  if (!is_valid_name(o.name)) {
    throw invalid_input("NAME '" + o.name + "'", "use letters, digits, '_', '-' or '.' (at most 64, not starting with '-' or '.')");
  }
  const ProjectTemplate* chosen = nullptr;
  for (const auto& t : project_templates()) {
    if (t.name == o.template_name) chosen = &t;
  }
  if (!chosen) {
    throw invalid_input("--template " + o.template_name, "unknown template; choose one of " + template_names());
  }
  std::string yaml = std::regex_replace(std::string(chosen->yaml), std::regex("^name:.*$", std::regex::multiline),
                                        "name: " + o.name, std::regex_constants::format_first_only);
  resolve_project_yaml(yaml, "projects/" + std::string(chosen->name) + ".yaml");  // templates are always valid

  fs::path target = o.dir.empty() ? fs::path(o.name) : fs::path(o.dir);
  std::error_code ec;
  if (fs::exists(target, ec) && !(fs::is_directory(target, ec) && fs::is_empty(target, ec))) {
    throw invalid_input(target.string(), "already exists and is not an empty folder; choose another NAME or --dir");
  }
  fs::path parent = fs::absolute(target).parent_path();
  fs::path staging = parent / (".tmp-new-" + target.filename().string() + "-" + std::to_string(::getpid()));
  if (!fs::create_directories(staging / "dataset", ec) || ec) {
    throw filesystem_error(parent.string(), "cannot create the project folder here (" + ec.message() + ")");
  }
  try {
    write_file_atomic(staging / kProjectFileName, yaml);
    write_file_atomic(staging / "dataset" / kManifestName, std::string_view());
    write_file_atomic(staging / ".gitignore", "# tml build outputs\nbuild/\n.tml/\n");
    fs::rename(staging, target);
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }

  json doc{{"ok", true},
           {"project", fs::absolute(target).lexically_normal().string()},
           {"name", o.name},
           {"template", chosen->name},
           {"files", {kProjectFileName, std::string("dataset/") + kManifestName, ".gitignore"}}};
  ctx.print(doc, [&](std::ostream& out) {
    out << "Created project '" << o.name << "' from the " << chosen->name << " template in " << target.string()
        << "/\nNext: tml -C " << target.string() << " import FILES... --label LABEL\n";
  });
  return 0;
}

}  // namespace

Verb add_new_verb(CLI::App& tml, Context& ctx) {
  auto options = std::make_shared<NewOptions>();
  CLI::App* sub = tml.add_subcommand("new", "create a project folder from a template");
  sub->add_option("NAME", options->name, "project name (also the folder name unless --dir is given)")->required();
  sub->add_option("--template,-t", options->template_name, "template: " + template_names())->required();
  sub->add_option("--dir", options->dir, "create the project in PATH instead of ./NAME")->type_name("PATH");
  return {sub, [&ctx, options] { return run_new(ctx, *options); }};
}

}  // namespace tml::cli
