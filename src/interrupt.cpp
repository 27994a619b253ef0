#include "propagon/interrupt.hpp"

#include <csignal>

namespace propagon {

namespace {
volatile std::sig_atomic_t pending = 0;
bool installed = false;
extern "C" void on_stop_signal(int signal) { pending = signal; }
}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  installed = true;
}

void reinstall_stop_handlers() {
  if (installed) install_stop_handlers();
}

int stop_signal() { return pending; }
void request_stop(int signal) { pending = signal; }

}  // namespace propagon
