// Entry point of the board firmware on boards with a main() (qemu-m4, host). The nano33ble sketch
// calls the same CollectApp from setup()/loop(). Built with a model (TML_APP_WITH_MODEL, see
// model_runner.cmake) it also classifies: the app of `tml flash`, `tml test` and `tml monitor`.
#include "app/collect_app.h"
#include "hal/hal.h"
#ifdef TML_APP_WITH_MODEL
#include "app/model_classifier.h"
#endif

namespace {
#ifdef TML_APP_WITH_MODEL
tml::app::ModelClassifier g_classifier;
tml::app::CollectApp g_app(&g_classifier);
#else
tml::app::CollectApp g_app;
#endif
}  // namespace

int main(int argc, char** argv) {
  if (!tml::hal::init(argc, argv)) return 2;
  g_app.begin();
  while (tml::hal::running()) g_app.poll();
  tml::hal::shutdown();
  return 0;
}
