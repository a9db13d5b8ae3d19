// owned_file.cc — see owned_file.h.
#include "owned_file.h"

#include "kernel_args.h"

namespace hostpass {

namespace {

// `text` without its first marker line, for "equal but for the marker".
std::string without_marker_line(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    size_t end = eol == std::string_view::npos ? text.size() : eol + 1;
    std::string_view line = text.substr(pos, end - pos);
    if (carries_marker(line))
      return std::string(text.substr(0, pos)) + std::string(text.substr(end));
    pos = end;
  }
  return std::string(text);
}

}  // namespace

bool carries_marker(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = trim(text.substr(pos, eol - pos));
    if (!line.empty() && line.front() == '#' && line.find(kOwnedMarker) != std::string_view::npos)
      return true;
    pos = eol + 1;
  }
  return false;
}

std::string next_backup_path(Host& host, std::string_view path) {
  std::string first = std::string(path) + ".hostpass.bak";
  if (!host.exists(first)) return first;
  for (int n = 1;; ++n) {
    std::string p = first + "." + std::to_string(n);
    if (!host.exists(p)) return p;
  }
}

Result<std::string> keep_backup(Host& host, std::string_view path, std::string_view contents) {
  std::string backup = next_backup_path(host, path);
  if (Status s = host.replace_file(backup, contents); !s.ok())
    return s.error().wrap("keeping a backup of " + std::string(path));
  return backup;
}

Result<OwnedWriteReport> write_owned_files(Host& host, const std::vector<NodeFile>& files,
                                           bool force) {
  struct Foreign {
    const NodeFile* file;
    std::string before;
  };
  std::vector<Foreign> foreign;
  std::string refusal;
  for (const NodeFile& f : files) {
    auto now = host.read_file(f.path, 1 << 20);
    if (!now.ok()) {
      if (now.error().kind == ErrorKind::NotFound) continue;
      return now.error().wrap("reading " + f.path + " before replacing it");
    }
    if (carries_marker(*now) || *now == f.contents || *now == without_marker_line(f.contents))
      continue;
    foreign.push_back(Foreign{&f, *now});
    if (!refusal.empty()) refusal += "\n";
    refusal += "refusing to replace " + f.path + ": hostpass did not write it (it has no \"# " +
               std::string(kOwnedMarker) + "\" line); this is what would change:\n" +
               unified_diff(f.path, *now, f.contents);
  }
  if (!foreign.empty() && !force)
    return refused(refusal + "merge the change by hand, or --force to replace " +
                   (foreign.size() == 1 ? "it" : "them") + " (a backup of each is kept beside it)");
  OwnedWriteReport report;
  for (const Foreign& fo : foreign) {
    auto backup = keep_backup(host, fo.file->path, fo.before);
    if (!backup.ok()) return backup.error();
    report.notes.push_back("--force: replaced " + fo.file->path +
                           ", which hostpass did not write; " + "its previous content is in " +
                           *backup);
  }
  for (const NodeFile& f : files) {
    if (Status s = host.replace_file(f.path, f.contents); !s.ok()) return s.error();
    report.written.push_back(f.path);
  }
  return report;
}

}  // namespace hostpass
