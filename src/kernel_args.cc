// kernel_args.cc — see kernel_args.h.
#include "kernel_args.h"

#include <algorithm>

#include "kernel_cmdline.h"
#include "pci_id.h"

namespace hostpass {

namespace {

// Values that contradict what hostpass asks for, per argument name.
bool conflicts(const std::string& name, const std::string& value) {
  if (name == "intel_iommu") return value == "off";
  if (name == "iommu") return value == "off" || value == "nopt" || value == "soft";
  return false;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// True when `existing` (same name as `wanted`) already gives what `wanted` asks.
bool satisfies(const std::string& existing, const std::string& wanted) {
  std::string name = arg_name(wanted);
  std::vector<std::string> have = arg_values(existing);
  for (const std::string& v : have)
    if (conflicts(name, v)) return false;
  for (const std::string& v : arg_values(wanted))
    if (!contains(have, v)) return false;
  return true;
}

// `existing` with conflicting values dropped and wanted values appended.
std::string merged(const std::string& existing, const std::string& wanted) {
  std::string name = arg_name(wanted);
  std::vector<std::string> values;
  for (const std::string& v : arg_values(existing))
    if (!v.empty() && !conflicts(name, v) && !contains(values, v)) values.push_back(v);
  for (const std::string& v : arg_values(wanted))
    if (!contains(values, v)) values.push_back(v);
  return name + "=" + join(values, ",");
}

// One argument somewhere in the file (or list): `slot` says where.
struct Token {
  std::string text;
  int slot = 0;               // which assignment (grub) — 0 for a plain list
  size_t begin = 0, end = 0;  // byte range in the file
};

enum class Action { Keep, Replace, Remove };
struct TokenEdit {
  Action action = Action::Keep;
  std::string replacement;
};

// The core rule, shared by edit_args and edit_grub_defaults. `target_slot` is where appended
// arguments go; `prefer_slot` is where a replacement is made when several candidates exist.
struct Plan {
  std::vector<TokenEdit> edits;  // parallel to tokens
  std::vector<std::string> append;
  std::vector<std::string> added, removed;
};

Plan plan_edits(const std::vector<Token>& tokens, const KernelArgSpec& spec, int target_slot) {
  Plan p;
  p.edits.resize(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i)
    if (contains(spec.forbidden, tokens[i].text)) {
      p.edits[i].action = Action::Remove;
      p.removed.push_back(tokens[i].text);
    }
  for (const std::string& want : spec.wanted) {
    std::string name = arg_name(want);
    std::vector<size_t> same;
    for (size_t i = 0; i < tokens.size(); ++i)
      if (p.edits[i].action == Action::Keep && arg_name(tokens[i].text) == name &&
          tokens[i].text.find('=') != std::string::npos)
        same.push_back(i);
    if (same.empty()) {
      p.append.push_back(want);
      p.added.push_back(want);
      continue;
    }
    // The keeper: the first one that already satisfies; else the first in the target slot;
    // else the first.
    std::optional<size_t> keeper;
    for (size_t i : same)
      if (satisfies(tokens[i].text, want)) {
        keeper = i;
        break;
      }
    if (!keeper) {
      for (size_t i : same)
        if (tokens[i].slot == target_slot) {
          keeper = i;
          break;
        }
      if (!keeper && target_slot >= 0) {
        // Conflicts only outside the target (GRUB_CMDLINE_LINUX_DEFAULT): take them out there
        // and add the argument to the target, which every boot entry gets.
        for (size_t i : same) {
          p.edits[i].action = Action::Remove;
          p.removed.push_back(tokens[i].text);
        }
        p.append.push_back(want);
        p.added.push_back(want);
        continue;
      }
      if (!keeper) keeper = same.front();
      std::string m = merged(tokens[*keeper].text, want);
      if (m != tokens[*keeper].text) {
        p.edits[*keeper] = {Action::Replace, m};
        p.removed.push_back(tokens[*keeper].text);
        p.added.push_back(m);
      }
    }
    for (size_t i : same) {
      if (i == *keeper) continue;
      p.edits[i].action = Action::Remove;
      p.removed.push_back(tokens[i].text);
    }
  }
  return p;
}

// The edit splices arguments into the value and, for an unquoted one, double-quotes it: right
// only when the value is one shell word quoted as a whole (or not at all). A word that mixes
// quoted and unquoted parts (quiet" splash", "quiet"splash, a\ b) means something else to the
// shell than to the scan (kernel_cmdline.h), so the edit would change arguments it did not mean
// to touch: InvalidInput, before any change.
Status one_word(std::string_view t, const ShellAssignment& a) {
  bool mixed = false;
  if (a.quote == 0)
    mixed = t.substr(a.value_begin, a.value_end - a.value_begin).find_first_of("\"'\\") !=
            std::string_view::npos;
  else
    mixed = a.stmt_end < t.size() &&
            std::string_view(" \t\r\n;").find(t[a.stmt_end]) == std::string_view::npos;
  if (!mixed) return {};
  return invalid_input(a.name + " (at byte " + std::to_string(a.value_begin) +
                       ") mixes quoted and unquoted parts in one word; write its value as one "
                       "quoted string, as in " +
                       a.name + "=\"quiet splash\"");
}

}  // namespace

Result<std::vector<std::string>> parse_vfio_ids(std::string_view csv) {
  std::vector<std::string> out;
  if (csv.empty()) return invalid_input("empty --vfio-ids: expected VVVV:DDDD[,VVVV:DDDD...]");
  for (const std::string& text : split(csv, ',')) {
    auto parsed = parse_vendor_device(text);
    if (!parsed)
      return invalid_input("invalid vendor:device id '" + text +
                           "': expected 4 hex digits on each side, as in 10de:1eb8");
    std::string id = vendor_device_string(*parsed);  // lowercase: 10DE:1EB8 is 10de:1eb8
    if (!contains(out, id)) out.push_back(id);
  }
  return out;
}

Result<NextBootCheck> guard_cmdline_ids(Host& host, const std::vector<std::string>& ids,
                                        const ForceSet& force) {
  NextBootRequest r;
  r.ids = ids;
  r.force = force;
  r.form = "vfio-pci.ids=";
  r.alternative =
      "the kernel command line has no by-address form: bind by address instead with hostpass "
      "persist --format driverctl or --format systemd";
  return guard_next_boot(host, r);
}

Result<KernelArgSpec> kernel_arg_spec(CpuVendor vendor, const std::vector<std::string>& vfio_ids,
                                      bool iommu_pt) {
  KernelArgSpec s;
  switch (vendor) {
    case CpuVendor::Intel:
      s.wanted.push_back("intel_iommu=on");
      break;
    case CpuVendor::Amd:
      s.forbidden.push_back("amd_iommu=off");
      break;
    default:
      return invalid_input(std::string("cannot tell the IOMMU arguments for a CPU vendor '") +
                           cpu_vendor_name(vendor) + "': pass --cpu intel or --cpu amd");
  }
  if (iommu_pt) s.wanted.push_back("iommu=pt");
  if (!vfio_ids.empty()) s.wanted.push_back("vfio-pci.ids=" + join(vfio_ids, ","));
  return s;
}

ArgsEdit edit_args(const std::vector<std::string>& args, const KernelArgSpec& spec) {
  std::vector<Token> tokens;
  tokens.reserve(args.size());
  for (const std::string& a : args) tokens.push_back(Token{a, 0, 0, 0});
  Plan p = plan_edits(tokens, spec, 0);
  ArgsEdit e;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (p.edits[i].action == Action::Keep) e.result.push_back(tokens[i].text);
    if (p.edits[i].action == Action::Replace) e.result.push_back(p.edits[i].replacement);
  }
  for (const std::string& a : p.append) e.result.push_back(a);
  e.added = std::move(p.added);
  e.removed = std::move(p.removed);
  return e;
}

Result<GrubEdit> edit_grub_defaults(std::string_view text, const KernelArgSpec& spec) {
  auto scanned = scan_shell_assignments(text);
  if (!scanned.ok()) return scanned.error();
  std::vector<ShellAssignment> ours;
  for (const ShellAssignment& a : *scanned)
    if (a.name == "GRUB_CMDLINE_LINUX" || a.name == "GRUB_CMDLINE_LINUX_DEFAULT") {
      if (Status s = one_word(text, a); !s.ok()) return s.error();
      ours.push_back(a);
    }
  int target = -1;
  for (size_t k = 0; k < ours.size(); ++k)
    if (ours[k].name == "GRUB_CMDLINE_LINUX") target = static_cast<int>(k);
  std::vector<Token> tokens;
  for (size_t k = 0; k < ours.size(); ++k)
    for (ArgSpan& arg : assignment_args(text, ours[k]))
      tokens.push_back(Token{std::move(arg.text), static_cast<int>(k), arg.begin, arg.end});
  Plan p = plan_edits(tokens, spec, target);

  GrubEdit e;
  e.before = std::string(text);
  e.added = p.added;
  e.removed = p.removed;
  // Splices, applied from the end of the file so that earlier offsets stay valid.
  struct Splice {
    size_t begin, end;
    std::string with;
    int order = 0;  // among splices at the same place: 0 first, 1 (an opening quote) last
    int slot = -1;  // a removal's assignment (an index into ours)
  };
  std::vector<Splice> splices, removals;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Token& tk = tokens[i];
    if (p.edits[i].action == Action::Replace) {
      splices.push_back({tk.begin, tk.end, p.edits[i].replacement});
    } else if (p.edits[i].action == Action::Remove) {
      // Take the token and the blanks before it (or after it, when it opens the value).
      const ShellAssignment& a = ours[tk.slot];
      size_t b = tk.begin, en = tk.end;
      while (b > a.value_begin && (text[b - 1] == ' ' || text[b - 1] == '\t')) --b;
      if (b == a.value_begin)
        while (en < a.value_end && (text[en] == ' ' || text[en] == '\t')) ++en;
      removals.push_back({b, en, "", 0, tk.slot});
    }
  }
  // Two removed neighbours at the start of a value claim the same blanks (the first after it,
  // the second before it): one removal of their union, or the second would cut past the value.
  // (Tokens, hence removals, are in file order.)
  std::vector<Splice> merged_removals;
  for (const Splice& r : removals)
    if (!merged_removals.empty() && r.begin <= merged_removals.back().end)
      merged_removals.back().end = std::max(merged_removals.back().end, r.end);
    else
      merged_removals.push_back(r);
  // A removal that ends a value after a kept word ending in a backslash ("a\ b" losing b) keeps
  // one blank: the backslash would otherwise escape the closing quote.
  for (Splice& r : merged_removals) {
    const ShellAssignment& a = ours[r.slot];
    if (r.end == a.value_end && r.begin > a.value_begin && text[r.begin - 1] == '\\') ++r.begin;
  }
  splices.insert(splices.end(), merged_removals.begin(), merged_removals.end());
  bool target_touched = !p.append.empty() && target >= 0;
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i].slot == target && p.edits[i].action != Action::Keep) target_touched = true;
  // An unquoted value that is edited gets double quotes (a blank would split it in the shell).
  bool add_quotes = target_touched && ours[target].quote == 0;
  if (!p.append.empty() && target >= 0) {
    const ShellAssignment& a = ours[target];
    bool empty_value = true;
    for (size_t i = 0; i < tokens.size(); ++i)
      if (tokens[i].slot == target && p.edits[i].action != Action::Remove) empty_value = false;
    std::string add = join(p.append, " ");
    if (empty_value)
      splices.push_back({a.value_end, a.value_end, add});
    else
      splices.push_back({a.value_end, a.value_end, " " + add});
  }
  if (add_quotes) {
    splices.push_back({ours[target].value_end, ours[target].value_end, "\"", -1});
    splices.push_back({ours[target].value_begin, ours[target].value_begin, "\"", 1});
  }
  std::stable_sort(splices.begin(), splices.end(), [](const Splice& x, const Splice& y) {
    if (x.begin != y.begin) return x.begin > y.begin;
    if (x.end != y.end) return x.end > y.end;
    return x.order < y.order;
  });
  std::string result(text);
  for (const Splice& s : splices) result.replace(s.begin, s.end - s.begin, s.with);
  if (!p.append.empty() && target < 0) {
    if (!result.empty() && result.back() != '\n') result += '\n';
    // A last line that ends in a backslash continues into whatever follows it: a blank line
    // ends it, so that the new line is an assignment of its own (in a comment or after an
    // escaped backslash the blank line is merely harmless).
    if (result.size() >= 2 && result[result.size() - 2] == '\\') result += '\n';
    result += "GRUB_CMDLINE_LINUX=\"" + join(p.append, " ") + "\"\n";
  }
  e.after = std::move(result);
  return e;
}

std::string unified_diff(const std::string& path, std::string_view before, std::string_view after) {
  if (before == after) return "";
  auto lines = [](std::string_view t) {
    std::vector<std::string> v;
    size_t pos = 0;
    while (pos < t.size()) {
      size_t eol = t.find('\n', pos);
      if (eol == std::string_view::npos) eol = t.size();
      v.emplace_back(t.substr(pos, eol - pos));
      pos = eol + 1;
    }
    return v;
  };
  std::vector<std::string> a = lines(before), b = lines(after);
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre &&
         a[a.size() - 1 - suf] == b[b.size() - 1 - suf])
    ++suf;
  size_t na = a.size() - pre - suf, nb = b.size() - pre - suf;
  std::string out = "--- " + path + "\n+++ " + path + "\n";
  out += "@@ -" + std::to_string(na ? pre + 1 : pre) + "," + std::to_string(na) + " +" +
         std::to_string(nb ? pre + 1 : pre) + "," + std::to_string(nb) + " @@\n";
  for (size_t i = pre; i < pre + na; ++i) out += "-" + a[i] + "\n";
  for (size_t i = pre; i < pre + nb; ++i) out += "+" + b[i] + "\n";
  return out;
}

}  // namespace hostpass
