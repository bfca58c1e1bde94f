#pragma once
// Classification metrics of a model on a labelled split: accuracy, confusion matrix, per-class
// precision and recall. Host only.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tml::deploy {

struct ClassMetrics {
  std::size_t count = 0;    // samples of this class
  double precision = 0.0;   // of the predictions of this class, the right ones (0 when none predicted)
  double recall = 0.0;      // of the samples of this class, the ones found (0 when none)
};

struct Evaluation {
  std::size_t count = 0;
  double accuracy = 0.0;                             // in [0, 1]
  std::vector<std::vector<std::size_t>> confusion;   // [truth][predicted]
  std::vector<ClassMetrics> classes;
};

// TRUTH and PREDICTED hold class indices in [0, classes); throws std::invalid_argument otherwise.
Evaluation evaluate(const std::vector<int>& truth, const std::vector<int>& predicted, int classes);

// The index of the largest value (the first one on ties), as the argmax of a classifier's output.
int argmax(const float* values, std::size_t count);
int argmax(const std::int8_t* values, std::size_t count);

}  // namespace tml::deploy
