#pragma once
/// @file interrupt.hpp
/// Graceful stops: SIGINT and SIGTERM ask the step loop to finish the current step, write a final
/// snapshot and close its files. The handler only records the signal.
namespace propagon {

/// Installs handlers for SIGINT and SIGTERM.
void install_stop_handlers();
/// Installs them again if install_stop_handlers() was called before (an embedded interpreter such as
/// Catalyst's Python replaces them when it starts).
void reinstall_stop_handlers();
/// The signal that asked for a stop, or 0.
int stop_signal();
/// For tests: asks for a stop as if `signal` had arrived (0 clears it).
void request_stop(int signal);

}  // namespace propagon
