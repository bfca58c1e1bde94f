// The live smoothing of tml monitor: averaging over recent windows, the threshold, suppression
// after a detection, and labels that are never detections ("_silence", "_unknown").
#include <gtest/gtest.h>

#include "cli/score_smoother.h"

namespace tml::cli {
namespace {

const std::vector<std::string> kLabels = {"yes", "no", "_silence", "_unknown"};

TEST(ScoreSmoother, AveragesRecentWindowsBeforeTheThreshold) {
  ScoreSmoother s(kLabels, {3, 0.6, 1.0});
  // One confident window after two silent ones: the average (0.3) stays below the threshold.
  EXPECT_FALSE(s.add({0.0, 0.0, 1.0, 0.0}, 0.25).detection);
  EXPECT_FALSE(s.add({0.0, 0.0, 1.0, 0.0}, 0.50).detection);
  Smoothed a = s.add({0.9, 0.0, 0.1, 0.0}, 0.75);
  EXPECT_EQ(a.label, 2);
  EXPECT_FALSE(a.detection);
  a = s.add({0.9, 0.0, 0.1, 0.0}, 1.00);
  EXPECT_EQ(a.label, 0);
  EXPECT_NEAR(a.score, 0.6, 1e-9);
  EXPECT_TRUE(a.detection);
}

TEST(ScoreSmoother, SuppressesRepeatsThenDetectsAgain) {
  ScoreSmoother s(kLabels, {1, 0.5, 1.0});
  EXPECT_TRUE(s.add({0.9, 0.1, 0, 0}, 1.0).detection);
  EXPECT_FALSE(s.add({0.9, 0.1, 0, 0}, 1.5).detection);   // within 1 s of the last detection
  EXPECT_FALSE(s.add({0.1, 0.9, 0, 0}, 1.99).detection);  // any label is suppressed
  EXPECT_TRUE(s.add({0.1, 0.9, 0, 0}, 2.0).detection);
}

TEST(ScoreSmoother, BackgroundLabelsAreNeverDetections) {
  ScoreSmoother s(kLabels, {1, 0.5, 0.0});
  const Smoothed a = s.add({0, 0, 0.1, 0.9}, 1.0);
  EXPECT_EQ(a.label, 3);
  EXPECT_FALSE(a.detection);
  EXPECT_FALSE(s.add({0, 0, 1.0, 0}, 2.0).detection);
  EXPECT_THROW(s.add({1.0}, 3.0), std::invalid_argument);
}

}  // namespace
}  // namespace tml::cli
