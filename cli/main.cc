// main.cc — the production entry point: the CLI over the real machine (or --root DIR).
#include "cli.h"

int main(int argc, char** argv) {
  return hostpass::run_cli(argc, argv, [](const std::string& root) {
    return std::make_unique<hostpass::RealHost>(root);
  });
}
