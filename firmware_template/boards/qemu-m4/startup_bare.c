/* startup.c for the board firmware (collect, tml_app): no newlib I/O (it would link malloc); argv
 * and the exit code through raw semihosting. A separate file because model_runner compiles
 * startup.c with newlib's semihosting stdio in the same CMake directory. */
#define TML_STARTUP_BARE 1
#include "startup.c"
