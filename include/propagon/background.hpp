#pragma once
/// @file background.hpp
/// One worker thread with a single slot, for output that may overlap the computation (snapshot
/// files). submit() first waits for the job before it, so at most one job is ever pending and the
/// memory it holds is bounded; a job's exception is rethrown by the next submit() or wait().
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace propagon {

class BackgroundWorker {
 public:
  BackgroundWorker();
  ~BackgroundWorker();  ///< finishes the pending job (its error, if any, is dropped) and joins
  BackgroundWorker(const BackgroundWorker&) = delete;
  BackgroundWorker& operator=(const BackgroundWorker&) = delete;

  /// Waits for the previous job (rethrowing its exception), then hands `job` to the worker.
  void submit(std::function<void()> job);
  /// Waits until no job is pending; rethrows the exception of the last one.
  void wait();

 private:
  void loop();
  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> job_;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: starts after the members it uses exist
};

}  // namespace propagon
