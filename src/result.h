// result.h — errors as values.
//
// Every library function that can fail returns Result<T>: either a value or an Error with a kind
// and a message that says what failed, where, and what to do about it (leveldb's Status, ninja's
// `bool + std::string* err`). No exception crosses the library boundary; third-party parsers that
// throw (yaml-cpp, nlohmann::json) are wrapped at their call site.
//
// The kind decides the CLI's exit code: InvalidInput and Refused are the user's to fix (exit 2),
// everything else is a failure (exit 1).
//
// Misuse — value() on an error, error() on a value — is a bug in the caller, and it is caught in
// every build type (not by assert, which RelWithDebInfo compiles out): the process prints what it
// was asked for and, for value(), the error it holds, then aborts. An abort that says why is a
// caught bug; reading the wrong alternative of the variant would be silent undefined behaviour.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace hostpass {

enum class ErrorKind {
  NotFound,      // a device, file or resource that should be there is not
  InvalidInput,  // the user's input is malformed; nothing was touched
  Refused,       // the input is well formed but acting on it would hurt the host
  Io,            // the operating system said no (read, write, exec)
  Unsupported,   // this host (or this --root) cannot do it at all
};

const char* error_kind_name(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::Io;
  std::string message;

  // Returns a copy whose message is "<context>: <message>".
  Error wrap(const std::string& context) const { return Error{kind, context + ": " + message}; }
};

inline Error not_found(std::string m) {
  return Error{ErrorKind::NotFound, std::move(m)};
}
inline Error invalid_input(std::string m) {
  return Error{ErrorKind::InvalidInput, std::move(m)};
}
inline Error refused(std::string m) {
  return Error{ErrorKind::Refused, std::move(m)};
}
inline Error io_error(std::string m) {
  return Error{ErrorKind::Io, std::move(m)};
}
inline Error unsupported(std::string m) {
  return Error{ErrorKind::Unsupported, std::move(m)};
}

namespace detail {

// Reports a misused Result on stderr and aborts. `error` is the error value() found instead of a
// value (null for error() called on a value).
[[noreturn]] inline void result_misuse(const char* call, const Error* error) {
  if (error)
    std::fprintf(stderr, "hostpass: bug: Result::%s called on an error (%s): %s\n", call,
                 error_kind_name(error->kind), error->message.c_str());
  else
    std::fprintf(stderr, "hostpass: bug: Result::%s called on a value, not an error\n", call);
  std::abort();
}

}  // namespace detail

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok().
  T& value() & {
    if (!ok()) detail::result_misuse("value()", std::get_if<1>(&v_));
    return *std::get_if<0>(&v_);
  }
  const T& value() const& {
    if (!ok()) detail::result_misuse("value()", std::get_if<1>(&v_));
    return *std::get_if<0>(&v_);
  }
  T&& value() && {
    if (!ok()) detail::result_misuse("value()", std::get_if<1>(&v_));
    return std::move(*std::get_if<0>(&v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !ok().
  const Error& error() const& {
    if (ok()) detail::result_misuse("error()", nullptr);
    return *std::get_if<1>(&v_);
  }
  Error&& error() && {
    if (ok()) detail::result_misuse("error()", nullptr);
    return std::move(*std::get_if<1>(&v_));
  }

  T value_or(T fallback) const& { return ok() ? std::get<0>(v_) : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& {
    if (ok_) detail::result_misuse("error()", nullptr);
    return error_;
  }
  Error&& error() && {
    if (ok_) detail::result_misuse("error()", nullptr);
    return std::move(error_);
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() {
  return Status();
}

}  // namespace hostpass
