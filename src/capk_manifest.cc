// capk_manifest.cc — see capk_manifest.h. yaml-cpp throws; every call into it is wrapped here.
#include "capk_manifest.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "render.h"

namespace hostpass {

namespace {

struct Doc {
  size_t first = 0, end = 0;  // line range [first, end)
  YAML::Node root;
};

std::vector<std::string> split_lines(const std::string& text, bool* final_newline) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  *final_newline = !text.empty() && text.back() == '\n';
  return lines;
}

bool is_separator(const std::string& line) {
  return line.rfind("---", 0) == 0 &&
         (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '#');
}

size_t indent_of(const std::string& line) {
  size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  return i;
}

// The line after the last line of the block value of the key at (key_line, key_col). With
// compact_seq, lines at the key's own column that start a sequence item belong to it too
// ("gpus:\n- deviceName: ..." as in the Cluster API Provider KubeVirt PCI passthrough guide).
// Comment and blank lines after the last content line stay outside: new lines go above a trailing
// comment such as "# ---".
size_t end_of_value(const std::vector<std::string>& lines, size_t key_line, size_t key_col,
                    size_t doc_end, bool compact_seq) {
  size_t last = key_line;
  for (size_t i = key_line + 1; i < doc_end; ++i) {
    const std::string& s = lines[i];
    size_t ind = indent_of(s);
    if (ind == s.size() || s[ind] == '#') continue;
    bool item = s.compare(ind, 2, "- ") == 0 || (s.size() == ind + 1 && s[ind] == '-');
    if (ind > key_col || (compact_seq && ind == key_col && item)) {
      last = i;
      continue;
    }
    break;
  }
  return last + 1;
}

struct Located {
  YAML::Node key, value;
};

std::optional<Located> find_key(const YAML::Node& map, const std::string& key) {
  if (!map || !map.IsMap()) return std::nullopt;
  for (const auto& kv : map)
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return Located{kv.first, kv.second};
  return std::nullopt;
}

std::string scalar_or_empty(const YAML::Node& n) {
  return n && n.IsScalar() ? n.Scalar() : "";
}

// Column of the '-' that starts the sequence item whose content starts at `item`.
size_t dash_column(const std::vector<std::string>& lines, size_t line, size_t item_col) {
  const std::string& s = lines[line];
  size_t c = std::min(item_col, s.size());
  while (c > 0) {
    --c;
    if (s[c] == '-') return c;
  }
  return item_col >= 2 ? item_col - 2 : 0;
}

std::string quote_if_needed(const std::string& s) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '/' || c == '-' || c == '_';
    if (!ok) {
      std::string q = "\"";
      for (char ch : s) {
        if (ch == '"' || ch == '\\') q += '\\';
        q += ch;
      }
      return q + "\"";
    }
  }
  return s;
}

Result<CapkEdit> edit(const std::string& manifest, const std::string& source,
                      const CapkDeviceRequest& req) {
  if (req.device_name.empty()) return invalid_input("no device (resource) name to add");
  bool final_newline = false;
  std::vector<std::string> lines = split_lines(manifest, &final_newline);
  std::vector<Doc> docs;
  size_t start = 0;
  for (size_t i = 0; i <= lines.size(); ++i) {
    if (i == lines.size() || is_separator(lines[i])) {
      if (i > start) docs.push_back(Doc{start, i, {}});
      start = i + 1;
    }
  }
  std::vector<std::string> templates;
  std::vector<size_t> template_docs;
  for (size_t d = 0; d < docs.size(); ++d) {
    std::string text;
    for (size_t i = docs[d].first; i < docs[d].end; ++i) text += lines[i] + "\n";
    try {
      docs[d].root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      return invalid_input(source + ":" + std::to_string(docs[d].first + e.mark.line + 1) + ": " +
                           e.msg);
    }
    const YAML::Node& r = docs[d].root;
    if (r && r.IsMap() && scalar_or_empty(r["kind"]) == "KubevirtMachineTemplate") {
      templates.push_back(r["metadata"] ? scalar_or_empty(r["metadata"]["name"]) : "");
      template_docs.push_back(d);
    }
  }
  std::string names;
  for (const std::string& t : templates) names += (names.empty() ? "" : ", ") + t;
  if (templates.empty())
    return not_found(source +
                     " has no KubevirtMachineTemplate: is it a manifest from "
                     "`clusterctl generate cluster --infrastructure kubevirt`?");
  std::string wanted = req.template_name;
  if (wanted.empty() && !req.cluster.empty()) wanted = req.cluster + "-md-0";
  if (wanted.empty()) {
    std::vector<std::string> workers;
    for (const std::string& t : templates)
      if (t.size() > 5 && t.compare(t.size() - 5, 5, "-md-0") == 0) workers.push_back(t);
    if (workers.size() != 1)
      return invalid_input(source + " has " + std::to_string(workers.size()) +
                           " worker templates named <cluster>-md-0 (KubevirtMachineTemplates: " +
                           names + "): choose one with --cluster or --template");
    wanted = workers[0];
  }
  if (wanted.size() >= 14 && wanted.compare(wanted.size() - 14, 14, "-control-plane") == 0)
    return refused("refusing to edit " + wanted +
                   ": it is the control plane's KubevirtMachineTemplate; passthrough devices go "
                   "to the workers' template (<cluster>-md-0), or every control-plane VM would "
                   "need one");
  auto it = std::find(templates.begin(), templates.end(), wanted);
  if (it == templates.end())
    return not_found("no KubevirtMachineTemplate named " + wanted + " in " + source +
                     " (there are: " + names + ")");
  const Doc& doc = docs[template_docs[static_cast<size_t>(it - templates.begin())]];

  // spec.template.spec.virtualMachineTemplate.spec.template.spec.domain
  YAML::Node node = doc.root;
  std::string path;
  for (const char* k : {"spec", "template", "spec", "virtualMachineTemplate", "spec", "template",
                        "spec", "domain"}) {
    path += (path.empty() ? "" : ".") + std::string(k);
    auto next = find_key(node, k);
    if (!next || !next->value.IsMap())
      return invalid_input(source + ": KubevirtMachineTemplate " + wanted + " has no mapping at " +
                           path +
                           "; expected spec.template.spec.virtualMachineTemplate.spec."
                           "template.spec.domain");
    // reset(), never `node = ...`: assigning to a YAML::Node rewrites the node it refers to.
    node.reset(next->value);
  }
  auto domain_key = find_key(
      doc.root["spec"]["template"]["spec"]["virtualMachineTemplate"]["spec"]["template"]["spec"],
      "domain");
  const YAML::Node& domain = node;
  const std::string list_key = req.gpu ? "gpus" : "hostDevices";
  auto abs_line = [&](const YAML::Node& n) {
    return doc.first + static_cast<size_t>(n.Mark().line);
  };
  auto col = [](const YAML::Node& n) { return static_cast<size_t>(n.Mark().column); };

  std::vector<std::string> insert;
  size_t insert_at = 0;
  std::vector<std::string> existing_names;
  std::string local = req.name;
  auto generate_name = [&]() {
    if (!local.empty()) return local;
    std::string base =
        req.gpu ? "gpu" : kubevirt_names({KubevirtRequest{req.device_name, false, ""}})[0];
    if (!req.gpu) base = base.substr(0, base.size() - 1);  // drop the "1"
    for (int n = 1;; ++n) {
      std::string c = base + std::to_string(n);
      if (std::find(existing_names.begin(), existing_names.end(), c) == existing_names.end())
        return c;
    }
  };
  auto entry = [&](size_t dash_col, const std::string& name) {
    return std::vector<std::string>{
        std::string(dash_col, ' ') + "- deviceName: " + quote_if_needed(req.device_name),
        std::string(dash_col + 2, ' ') + "name: " + quote_if_needed(name)};
  };
  size_t entry_line = 0;

  auto devices = find_key(domain, "devices");
  if (devices && devices->value.IsMap() && devices->value.size() > 0) {
    const YAML::Node& dev = devices->value;
    if (dev.Style() == YAML::EmitterStyle::Flow)
      return invalid_input(
          source + ":" + std::to_string(abs_line(devices->key) + 1) +
          ": devices is written in flow style ({...}); hostpass edits block style only");
    size_t key_line = abs_line(devices->key), key_col = col(devices->key);
    size_t child_col = col(dev.begin()->first);
    auto list = find_key(dev, list_key);
    if (list && !list->value.IsNull()) {
      if (!list->value.IsSequence() || list->value.Style() == YAML::EmitterStyle::Flow)
        return invalid_input(source + ":" + std::to_string(abs_line(list->key) + 1) + ": " +
                             list_key + " must be a block list (- deviceName: ...)");
      for (const YAML::Node& e : list->value) {
        existing_names.push_back(scalar_or_empty(e["name"]));
        if (scalar_or_empty(e["deviceName"]) == req.device_name) {
          CapkEdit same;
          same.text = manifest;
          same.template_name = wanted;
          same.name = scalar_or_empty(e["name"]);
          same.line = static_cast<int>(abs_line(e) + 1);
          return same;
        }
      }
      const YAML::Node first = list->value[0];
      size_t dc = dash_column(lines, abs_line(first), col(first));
      insert_at = end_of_value(lines, abs_line(list->key), col(list->key), doc.end, true);
      local = generate_name();
      insert = entry(dc, local);
      entry_line = insert_at;
    } else {
      // The sequence style the file uses for other lists under devices (disks), else 2.
      size_t offset = 2;
      for (const auto& kv : dev) {
        if (kv.second.IsSequence() && kv.second.size() > 0 &&
            kv.second.Style() != YAML::EmitterStyle::Flow) {
          const YAML::Node item = kv.second[0];
          size_t dc = dash_column(lines, abs_line(item), col(item));
          offset = dc >= col(kv.first) ? dc - col(kv.first) : 2;
          break;
        }
      }
      if (list) {  // "gpus:" with nothing under it: fill it
        insert_at = abs_line(list->key) + 1;
        local = generate_name();
        insert = entry(col(list->key) + offset, local);
        entry_line = insert_at;
      } else {
        insert_at = end_of_value(lines, key_line, key_col, doc.end, false);
        local = generate_name();
        insert.push_back(std::string(child_col, ' ') + list_key + ":");
        for (const std::string& l : entry(child_col + offset, local)) insert.push_back(l);
        entry_line = insert_at + 1;
      }
    }
  } else if (devices && !devices->value.IsNull() && !devices->value.IsMap()) {
    return invalid_input(source + ":" + std::to_string(abs_line(devices->key) + 1) +
                         ": devices must be a mapping");
  } else if (devices && devices->value.IsMap() &&
             devices->value.Style() == YAML::EmitterStyle::Flow) {
    return invalid_input(
        source + ":" + std::to_string(abs_line(devices->key) + 1) +
        ": devices is written in flow style ({...}); hostpass edits block style only");
  } else {
    // No devices mapping (or an empty one): add it under domain, or fill the empty key.
    size_t dcol = col(domain.begin()->first);
    local = generate_name();
    if (devices) {
      insert_at = abs_line(devices->key) + 1;
      dcol = col(devices->key);
    } else {
      insert_at =
          end_of_value(lines, abs_line(domain_key->key), col(domain_key->key), doc.end, false);
      insert.push_back(std::string(dcol, ' ') + "devices:");
    }
    insert.push_back(std::string(dcol + 2, ' ') + list_key + ":");
    for (const std::string& l : entry(dcol + 4, local)) insert.push_back(l);
    entry_line = insert_at + insert.size() - 2;
  }

  lines.insert(lines.begin() + static_cast<long>(insert_at), insert.begin(), insert.end());
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    out += lines[i];
    if (i + 1 < lines.size() || final_newline) out += '\n';
  }

  // Verify: the edited document parses and KubeVirt finds the entry where it looks.
  std::string doc_text;
  for (size_t i = doc.first; i < doc.end + insert.size(); ++i) doc_text += lines[i] + "\n";
  YAML::Node check = YAML::Load(doc_text);
  YAML::Node l = check["spec"]["template"]["spec"]["virtualMachineTemplate"]["spec"]["template"]
                      ["spec"]["domain"]["devices"][list_key];
  bool found = false;
  if (l && l.IsSequence())
    for (const YAML::Node& e : l)
      found = found || (scalar_or_empty(e["deviceName"]) == req.device_name &&
                        scalar_or_empty(e["name"]) == local);
  if (!found)
    return io_error("internal error: the edited " + wanted + " does not read back with " +
                    req.device_name + " under domain.devices." + list_key +
                    "; the manifest was not changed");
  CapkEdit result;
  result.text = std::move(out);
  result.changed = true;
  result.template_name = wanted;
  result.name = local;
  result.line = static_cast<int>(entry_line + 1);
  return result;
}

}  // namespace

Result<CapkEdit> capk_add_device(const std::string& manifest, const std::string& source_name,
                                 const CapkDeviceRequest& request) {
  try {
    return edit(manifest, source_name, request);
  } catch (const YAML::Exception& e) {
    return invalid_input(source_name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

}  // namespace hostpass
