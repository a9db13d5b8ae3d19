// smoke_main.cc — a deterministic stand-in for libFuzzer's driver when building with g++.
//
//   <target> CORPUS_DIR [ITERATIONS=20000]
// Runs LLVMFuzzerTestOneInput on every corpus file, then on ITERATIONS mutations of them
// (bit flips, byte inserts and deletes, splices, truncations) from a fixed seed, so a failure
// reproduces. Crashes and sanitizer reports end the process as they would under libFuzzer; on an
// abort (a target's property failing) or when one input runs longer than 10 seconds (a hang, as
// libFuzzer's -timeout), the input is first written to ./smoke-crash-<target>, whose path is
// printed, so it can be replayed and kept as a regression file.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

const std::string* g_current = nullptr;  // the input being run
std::string g_crash_path;

constexpr unsigned kTimeoutSeconds = 10;

// Async-signal-safe: open(2) and write(2) only.
void on_signal(int sig) {
  if (g_current) {
    int fd = ::open(g_crash_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ssize_t ignored = ::write(fd, g_current->data(), g_current->size());
      (void)ignored;
      ::close(fd);
    }
    const char msg[] = "\nsmoke: the failing (or hanging) input is in ";
    ssize_t ignored = ::write(2, msg, sizeof msg - 1);
    ignored = ::write(2, g_crash_path.data(), g_crash_path.size());
    ignored = ::write(2, "\n", 1);
    (void)ignored;
  }
  std::signal(SIGABRT, SIG_DFL);
  if (sig == SIGALRM) {
    const char msg[] = "smoke: an input ran longer than the timeout\n";
    ssize_t ignored = ::write(2, msg, sizeof msg - 1);
    (void)ignored;
  }
  std::raise(SIGABRT);
}

void run(const std::string& s) {
  g_current = &s;
  ::alarm(kTimeoutSeconds);
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  ::alarm(0);
  g_current = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS]\n", argv[0]);
    return 2;
  }
  long iterations = argc > 2 ? std::atol(argv[2]) : 20000;
  g_crash_path = (std::filesystem::current_path() /
                  ("smoke-crash-" + std::filesystem::path(argv[0]).filename().string()))
                     .string();
  std::signal(SIGABRT, on_signal);
  std::signal(SIGALRM, on_signal);
  std::vector<std::string> corpus;
  for (const auto& e : std::filesystem::directory_iterator(argv[1])) {
    std::ifstream f(e.path(), std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  if (corpus.empty()) corpus.emplace_back();
  for (const std::string& s : corpus) run(s);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (long i = 0; i < iterations; ++i) {
    std::string s = corpus[next() % corpus.size()];
    int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = s.empty() ? 0 : next() % (s.size() + 1);
      switch (next() % 5) {
        case 0:
          if (!s.empty()) s[pos % s.size()] ^= static_cast<char>(1u << (next() % 8));
          break;
        case 1:
          s.insert(pos, 1, static_cast<char>(next() & 0xff));
          break;
        case 2:
          if (!s.empty()) s.erase(pos % s.size(), 1 + next() % 4);
          break;
        case 3: {
          const std::string& other = corpus[next() % corpus.size()];
          if (!other.empty()) s.insert(pos, other.substr(next() % other.size()));
          break;
        }
        case 4:
          s.resize(pos);
          break;
      }
    }
    run(s);
  }
  std::printf("%zu corpus inputs and %ld mutations ran clean\n", corpus.size(), iterations);
  return 0;
}
