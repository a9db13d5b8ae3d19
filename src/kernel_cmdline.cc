// kernel_cmdline.cc — see kernel_cmdline.h.
#include "kernel_cmdline.h"

#include <algorithm>

namespace hostpass {

Result<std::string> read_proc_cmdline(Host& host) {
  auto text = host.read_file(kProcCmdline, 64 << 10);
  if (!text.ok()) return text.error();
  return std::string(trim(*text));
}

std::vector<std::string> split_cmdline(std::string_view cmdline) {
  std::vector<std::string> args;
  std::string cur;
  bool in_quote = false, have = false;
  for (char c : cmdline) {
    if (c == '"') {
      in_quote = !in_quote;
      cur += c;
      have = true;
    } else if (!in_quote && (c == ' ' || c == '\t' || c == '\n')) {
      if (have) {
        if (cur == "--") return args;
        args.push_back(cur);
      }
      cur.clear();
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have && cur != "--") args.push_back(cur);
  return args;
}

std::string arg_name(std::string_view arg) {
  return std::string(arg.substr(0, arg.find('=')));
}

std::vector<std::string> arg_values(std::string_view arg) {
  size_t eq = arg.find('=');
  if (eq == std::string_view::npos) return {};
  return split(arg.substr(eq + 1), ',');
}

std::optional<std::string> cmdline_value(const std::vector<std::string>& args,
                                         std::string_view name) {
  std::optional<std::string> v;
  for (const std::string& a : args)
    if (a.size() > name.size() && a.compare(0, name.size(), name) == 0 && a[name.size()] == '=')
      v = a.substr(name.size() + 1);
  return v;
}

bool value_has(std::string_view value, std::string_view option) {
  std::vector<std::string> options = split(value, ',');
  return std::find(options.begin(), options.end(), option) != options.end();
}

namespace {

bool is_ident_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_separator_at(std::string_view t, size_t i) {
  char c = t[i];
  if (c == ' ' || c == '\t' || c == '\n') return true;
  return c == '\\' && i + 1 < t.size() && t[i + 1] == '\n';
}

}  // namespace

Result<std::vector<ShellAssignment>> scan_shell_assignments(std::string_view t) {
  std::vector<ShellAssignment> out;
  size_t i = 0;
  while (i < t.size()) {
    size_t line_start = i;
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
    if (t.compare(i, 7, "export ") == 0) i += 7;
    size_t name_begin = i;
    while (i < t.size() && is_ident_char(t[i])) ++i;
    if (i > name_begin && i < t.size() && t[i] == '=') {
      ShellAssignment a;
      a.name = std::string(t.substr(name_begin, i - name_begin));
      ++i;
      if (i < t.size() && (t[i] == '"' || t[i] == '\'')) {
        a.quote = t[i];
        a.value_begin = ++i;
        while (i < t.size() && t[i] != a.quote) {
          if (a.quote == '"' && t[i] == '\\' && i + 1 < t.size()) ++i;
          ++i;
        }
        if (i >= t.size())
          return invalid_input("unterminated " + std::string(1, a.quote) + " quote in " + a.name +
                               " (starting at byte " + std::to_string(line_start) + ")");
        a.value_end = i;
        a.stmt_end = i + 1;
      } else {
        a.value_begin = i;
        // '#' starts a comment only at the start of a word: in X=#a it is part of the value.
        while (i < t.size() && t[i] != ' ' && t[i] != '\t' && t[i] != '\n' && t[i] != ';') {
          if (t[i] == '\\' && i + 1 < t.size()) ++i;
          ++i;
        }
        a.value_end = i;
        a.stmt_end = i;
      }
      out.push_back(a);
      i = a.stmt_end;
    }
    // Rest of the line (comments, other statements) is kept as is.
    while (i < t.size() && t[i] != '\n') ++i;
    if (i < t.size()) ++i;
    if (i == line_start) ++i;
  }
  return out;
}

std::vector<ArgSpan> assignment_args(std::string_view t, const ShellAssignment& a) {
  std::vector<ArgSpan> out;
  size_t i = a.value_begin;
  while (i < a.value_end) {
    if (is_separator_at(t, i)) {
      i += (t[i] == '\\') ? 2 : 1;
      continue;
    }
    size_t b = i;
    while (i < a.value_end && !is_separator_at(t, i)) ++i;
    out.push_back(ArgSpan{std::string(t.substr(b, i - b)), b, i});
  }
  return out;
}

}  // namespace hostpass
