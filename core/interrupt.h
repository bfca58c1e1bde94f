#pragma once
// Ctrl-C handling for long work: the first SIGINT sets a flag that loops poll, so they can stop at a
// safe point and exit with ExitCode::interrupted; a second SIGINT ends the process at once.
namespace tml {

void install_interrupt_handler();
bool interrupted();
// Throws tml::Error(ExitCode::interrupted) when interrupted() is true.
void throw_if_interrupted();

}  // namespace tml
