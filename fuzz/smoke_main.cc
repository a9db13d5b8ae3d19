// smoke_main.cc — a deterministic stand-in for libFuzzer's driver when building with g++.
//
//   <target> CORPUS_DIR [ITERATIONS=20000]
// Runs LLVMFuzzerTestOneInput on every corpus file, then on ITERATIONS mutations of them
// (bit flips, byte inserts and deletes, splices, truncations) from a fixed seed, so a failure
// reproduces. Crashes and sanitizer reports end the process as they would under libFuzzer.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS]\n", argv[0]);
    return 2;
  }
  long iterations = argc > 2 ? std::atol(argv[2]) : 20000;
  std::vector<std::string> corpus;
  for (const auto& e : std::filesystem::directory_iterator(argv[1])) {
    std::ifstream f(e.path(), std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  if (corpus.empty()) corpus.emplace_back();
  for (const std::string& s : corpus)
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
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
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  std::printf("%zu corpus inputs and %ld mutations ran clean\n", corpus.size(), iterations);
  return 0;
}
