#include "deploy/evaluation.h"

#include <stdexcept>

namespace tml::deploy {

Evaluation evaluate(const std::vector<int>& truth, const std::vector<int>& predicted, int classes) {
  if (truth.size() != predicted.size() || classes <= 0) throw std::invalid_argument("evaluate: sizes differ");
  Evaluation e;
  e.count = truth.size();
  e.confusion.assign(static_cast<std::size_t>(classes), std::vector<std::size_t>(static_cast<std::size_t>(classes), 0));
  std::size_t right = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || truth[i] >= classes || predicted[i] < 0 || predicted[i] >= classes)
      throw std::invalid_argument("evaluate: class index out of range");
    ++e.confusion[static_cast<std::size_t>(truth[i])][static_cast<std::size_t>(predicted[i])];
    right += truth[i] == predicted[i];
  }
  e.accuracy = e.count ? static_cast<double>(right) / static_cast<double>(e.count) : 0.0;
  for (std::size_t c = 0; c < e.confusion.size(); ++c) {
    std::size_t row = 0, column = 0;
    for (std::size_t k = 0; k < e.confusion.size(); ++k) {
      row += e.confusion[c][k];
      column += e.confusion[k][c];
    }
    ClassMetrics m;
    m.count = row;
    m.recall = row ? static_cast<double>(e.confusion[c][c]) / static_cast<double>(row) : 0.0;
    m.precision = column ? static_cast<double>(e.confusion[c][c]) / static_cast<double>(column) : 0.0;
    e.classes.push_back(m);
  }
  return e;
}

int argmax(const float* values, std::size_t count) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < count; ++i)
    if (values[i] > values[best]) best = i;
  return static_cast<int>(best);
}

int argmax(const std::int8_t* values, std::size_t count) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < count; ++i)
    if (values[i] > values[best]) best = i;
  return static_cast<int>(best);
}

}  // namespace tml::deploy
