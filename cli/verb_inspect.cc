// tml inspect MODEL.tflite: ops with their parameters and MACs, tensors, and the arena plan against
// its live-set lower bound and TFLite Micro's greedy plan. Reads only; writes nothing.
#include <iostream>

#include "context.h"
#include "model_summary.h"

namespace tml::cli {

Verb add_inspect_verb(CLI::App& tml, Context& ctx) {
  auto file = std::make_shared<std::string>();
  auto tensors = std::make_shared<bool>(false);
  CLI::App* sub = tml.add_subcommand("inspect", "show an int8 .tflite model's ops, MACs and arena plan");
  sub->add_option("model", *file, "the .tflite file")->required();
  sub->add_flag("--tensors", *tensors, "also list every tensor with its quantization");
  return {sub, [&ctx, file, tensors] {
            const deploy::CompiledModel m = load_compiled_model(*file);
            nlohmann::ordered_json doc{{"ok", true}, {"model", *file}};
            doc.update(model_totals(m));
            doc["layers"] = op_table(m);
            if (*tensors) doc["tensors"] = tensor_table(m);
            ctx.print(doc, [&](std::ostream& out) {
              out << *file << ": ";
              print_totals(out, m);
              out << "\n";
              print_op_table(out, m);
              if (*tensors) {
                out << "\n";
                print_tensor_table(out, m);
              }
            });
            return 0;
          }};
}

}  // namespace tml::cli
