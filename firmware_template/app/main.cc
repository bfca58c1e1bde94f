// Entry point of the collection firmware on boards with a main() (qemu-m4, host). The nano33ble
// sketch calls the same CollectApp from setup()/loop().
#include "app/collect_app.h"
#include "hal/hal.h"

namespace {
tml::app::CollectApp g_app;
}

int main(int argc, char** argv) {
  if (!tml::hal::init(argc, argv)) return 2;
  g_app.begin();
  while (tml::hal::running()) g_app.poll();
  tml::hal::shutdown();
  return 0;
}
