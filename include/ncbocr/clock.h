// Time for the whole program: one time point type and a wall clock behind an
// interface, so tests can fix "now". Base layer: anything may include it.
#ifndef NCBOCR_CLOCK_H_
#define NCBOCR_CLOCK_H_

#include <chrono>

namespace ncbocr {

using TimePoint = std::chrono::system_clock::time_point;

// The wall clock. Never fails. Tests derive a fixed or stepping clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const { return std::chrono::system_clock::now(); }
};

}  // namespace ncbocr

#endif  // NCBOCR_CLOCK_H_
