// kubevirt_policy.cc — reads KubeVirt's permittedHostDevices from the YAML users already have.
//
// The only file that includes yaml-cpp (CONVENTIONS §6). yaml-cpp throws; every call that can
// throw is inside parse_policy's try block, and nothing thrown leaves this file.
//
// Where the permitted devices are, by document shape (first match wins):
//   kind: KubeVirt spec.configuration.{permittedHostDevices,mediatedDevicesConfiguration} kind:
//   HyperConverged      spec.{permittedHostDevices,mediatedDevicesConfiguration} no kind (a
//   fragment)      spec.configuration.X, spec.X, configuration.X, X — the CAPK guide and
//                             KubeVirt's host-devices page paste these fragments — or the contents
//                             of permittedHostDevices themselves
//                             (pciHostDevices/mediatedDevices/usb at the top).
// A multi-document file is accepted when exactly one document is a KubeVirt or HyperConverged CR.
//
// Types follow the API server's reading of the same YAML (sigs.k8s.io/yaml, go-yaml v2
// resolution): an unquoted 0001 is a number, not the string "0001", and a number where a string
// is expected is refused with a hint to quote it, as `kubectl apply` would refuse it.
//
// Field semantics, from KubeVirt (pkg/virt-handler/device-manager):
//   device_controller.go keys PCI selectors by strings.ToLower(pciVendorSelector) and
//   pci_device.go compares them with "vendor:device" from sysfs — so only VVVV:DDDD in hex ever
//   matches; mediated_device.go compares mdevNameSelector with the type's `name` file (or the
//   type id when there is no name file), spaces replaced by '_' on both sides; usb_device.go
//   parses selector vendor/product with strconv.ParseInt(s, 16, 32).
#include "kubevirt_policy.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "pci_id.h"

namespace hostpass {

namespace {

// yaml-cpp 0.7's LoadAll (Debian 12's) never returns on some malformed input (",\n" among them):
// the parser reports an empty document without consuming the token it cannot place, and LoadAll
// asks again, forever, allocating a node each time (jbeder/yaml-cpp#1319, fixed after 0.8). So
// the documents are first walked with an event handler that builds nothing; a document that
// starts where the previous one did is that stall, reported as a parse error. Then LoadAll takes
// the same, now known to be finite, path.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<size_t> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark.pos); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Every document of `text`, as YAML::LoadAll gives them. Throws what yaml-cpp throws, and a
// YAML::ParserException where LoadAll would not return.
std::vector<YAML::Node> load_all(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts events;
  while (parser.HandleNextDocument(events)) {
    size_t n = events.starts.size();
    if (n >= 2 && events.starts[n - 1] == events.starts[n - 2]) {
      YAML::Mark mark;
      mark.pos = static_cast<int>(events.starts[n - 1]);
      mark.line = static_cast<int>(std::count(text.begin(), text.begin() + mark.pos, '\n'));
      throw YAML::ParserException(mark, "unexpected token that starts no node");
    }
  }
  return YAML::LoadAll(text);
}

int line_of(const YAML::Node& n) {
  return n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
}

// What a plain (unquoted, untagged) scalar resolves to in go-yaml v2, which the API server uses.
enum class ScalarType { String, Null, Bool, Int, Float };

ScalarType resolve_plain(const std::string& v) {
  static const std::set<std::string> nulls = {"", "~", "null", "Null", "NULL"};
  static const std::set<std::string> bools = {
      "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No",
      "NO",   "on",   "On",   "ON",    "off",   "Off",   "OFF", "y",   "Y",   "n",  "N"};
  static const std::regex int_re("^[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$");
  static const std::regex float_re(
      "^[-+]?(\\.[0-9]+|[0-9][0-9_]*(\\.[0-9_]*)?)([eE][-+]?[0-9]+)?$|^[-+]?\\.(inf|Inf|INF)$|"
      "^\\.(nan|NaN|NAN)$");
  if (nulls.contains(v)) return ScalarType::Null;
  if (bools.contains(v)) return ScalarType::Bool;
  if (std::regex_match(v, int_re)) return ScalarType::Int;
  if (std::regex_match(v, float_re)) return ScalarType::Float;
  return ScalarType::String;
}

ScalarType scalar_type(const YAML::Node& n) {
  if (n.Tag() == "?") return resolve_plain(n.Scalar());
  if (n.Tag() == "tag:yaml.org,2002:int") return ScalarType::Int;
  if (n.Tag() == "tag:yaml.org,2002:bool") return ScalarType::Bool;
  if (n.Tag() == "tag:yaml.org,2002:null") return ScalarType::Null;
  if (n.Tag() == "tag:yaml.org,2002:float") return ScalarType::Float;
  return ScalarType::String;  // quoted ("!") or !!str
}

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing (null)";
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  switch (scalar_type(n)) {
    case ScalarType::Null:
      return "nothing (null)";
    case ScalarType::Bool:
      return "the boolean " + n.Scalar();
    case ScalarType::Int:
    case ScalarType::Float:
      return "the number " + n.Scalar();
    case ScalarType::String:
      return "the string \"" + n.Scalar() + "\"";
  }
  return "a value";
}

class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  void error(int line, const std::string& field, const std::string& problem) {
    std::string msg = source_ + ":" + std::to_string(line) + ": " + field + ": " + problem;
    if (errors_.size() < 50) errors_.push_back(std::move(msg));
  }
  bool failed() const { return !errors_.empty(); }
  std::string message() const {
    std::string m;
    for (const std::string& e : errors_) m += (m.empty() ? "" : "\n") + e;
    return m;
  }

  // The keys of a mapping in document order, with duplicate keys reported. Returns false (and
  // reports) when `n` is not a mapping.
  bool mapping(const YAML::Node& n, const std::string& field,
               std::vector<std::pair<std::string, YAML::Node>>* out) {
    if (!n.IsMap()) {
      error(line_of(n), field, "expected a mapping, got " + describe(n));
      return false;
    }
    std::set<std::string> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (!seen.insert(key).second) {
        error(line_of(it->first), field + "." + key,
              "duplicate key (the API server rejects a mapping with the same key twice)");
        continue;
      }
      out->emplace_back(key, it->second);
    }
    return true;
  }

  std::optional<std::string> string_value(const YAML::Node& n, const std::string& field) {
    if (!n.IsScalar() || scalar_type(n) != ScalarType::String) {
      std::string hint = n.IsScalar() && scalar_type(n) != ScalarType::Null
                             ? " (quote it: \"" + n.Scalar() + "\")"
                             : "";
      error(line_of(n), field, "expected a string, got " + describe(n) + hint);
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<bool> bool_value(const YAML::Node& n, const std::string& field) {
    if (n.IsScalar() && scalar_type(n) == ScalarType::Bool) {
      char c = n.Scalar()[0];
      return c == 't' || c == 'T' || c == 'y' || c == 'Y' || n.Scalar() == "on" ||
             n.Scalar() == "On" || n.Scalar() == "ON";
    }
    error(line_of(n), field, "expected true or false, got " + describe(n));
    return std::nullopt;
  }

  void unknown(const YAML::Node& key_value, const std::string& field, const std::string& key,
               const char* expected) {
    error(line_of(key_value), field + "." + key,
          std::string("unknown field (expected ") + expected + ")");
  }

  std::string source_;
  std::vector<std::string> errors_;
};

std::string index_field(const std::string& list, size_t i) {
  return list + "[" + std::to_string(i) + "]";
}

void check_resource_name(Parser& p, const YAML::Node& n, const std::string& field,
                         const std::string& name) {
  std::string why;
  if (!is_extended_resource_name(name, &why))
    p.error(line_of(n), field, "\"" + name + "\" is not a valid extended resource name: " + why);
}

std::optional<PciVendorSelector> parse_pci_selector(Parser& p, const YAML::Node& n,
                                                    const std::string& field) {
  auto text = p.string_value(n, field);
  if (!text) return std::nullopt;
  // KubeVirt lowercases the selector and looks it up in a map keyed by "vvvv:dddd" read from
  // sysfs (device_controller.go, pci_device.go): nothing else can ever match.
  auto id = parse_vendor_device(*text);
  if (!id) {
    p.error(line_of(n), field,
            "\"" + *text +
                "\" is not a vendor:device selector: expected VVVV:DDDD, four hex digits "
                "each, as lspci -nn prints them (e.g. 10de:1eb8)");
    return std::nullopt;
  }
  PciVendorSelector sel;
  sel.vendor = id->vendor;
  sel.device = id->device;
  return sel;
}

std::optional<uint16_t> parse_usb_id(Parser& p, const YAML::Node& n, const std::string& field) {
  auto text = p.string_value(n, field);
  if (!text) return std::nullopt;
  // usb_device.go parseSelector: strconv.ParseInt(s, 16, 32); lsusb prints four hex digits.
  auto id = text->size() <= 4 ? parse_hex_digits(*text, text->size()) : std::nullopt;
  if (!id) {
    p.error(line_of(n), field,
            "\"" + *text +
                "\" is not a USB id: expected 1 to 4 hex digits, as lsusb prints them "
                "(e.g. 046d)");
    return std::nullopt;
  }
  return static_cast<uint16_t>(*id);
}

struct Located {
  YAML::Node permitted;  // may be undefined
  std::string permitted_field;
  YAML::Node mdev_config;
  std::string mdev_config_field;
  std::string format;
};

YAML::Node child(const YAML::Node& n, const char* key) {
  if (!n.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (auto it = n.begin(); it != n.end(); ++it)
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string kind_of(const YAML::Node& doc) {
  YAML::Node k = child(doc, "kind");
  return k.IsDefined() && k.IsScalar() ? k.Scalar() : "";
}

// Finds permittedHostDevices and mediatedDevicesConfiguration in one document.
std::optional<Located> locate(Parser& p, const YAML::Node& doc) {
  Located l;
  if (!doc.IsMap()) {
    p.error(line_of(doc), "(document)",
            "expected a KubeVirt or HyperConverged CR, or a permittedHostDevices mapping; got " +
                describe(doc));
    return std::nullopt;
  }
  std::string kind = kind_of(doc);
  YAML::Node spec = child(doc, "spec");
  if (kind == "KubeVirt") {
    YAML::Node conf = child(spec, "configuration");
    l.format = "KubeVirt CR";
    l.permitted = child(conf, "permittedHostDevices");
    l.permitted_field = "spec.configuration.permittedHostDevices";
    l.mdev_config = child(conf, "mediatedDevicesConfiguration");
    l.mdev_config_field = "spec.configuration.mediatedDevicesConfiguration";
    return l;
  }
  if (kind == "HyperConverged") {
    l.format = "HyperConverged CR";
    l.permitted = child(spec, "permittedHostDevices");
    l.permitted_field = "spec.permittedHostDevices";
    l.mdev_config = child(spec, "mediatedDevicesConfiguration");
    l.mdev_config_field = "spec.mediatedDevicesConfiguration";
    return l;
  }
  if (!kind.empty()) {
    p.error(line_of(child(doc, "kind")), "kind",
            "\"" + kind + "\" is neither KubeVirt nor HyperConverged: nothing to read here");
    return std::nullopt;
  }
  // Fragments, as the seeds paste them.
  struct Shape {
    YAML::Node base;
    std::string prefix;
  };
  YAML::Node spec_conf = child(spec, "configuration");
  for (const Shape& s : {Shape{spec_conf, "spec.configuration."}, Shape{spec, "spec."},
                         Shape{child(doc, "configuration"), "configuration."}, Shape{doc, ""}}) {
    if (!s.base.IsDefined() || !s.base.IsMap()) continue;
    YAML::Node phd = child(s.base, "permittedHostDevices");
    YAML::Node mdc = child(s.base, "mediatedDevicesConfiguration");
    if (phd.IsDefined() || mdc.IsDefined()) {
      l.format = "permittedHostDevices mapping";
      l.permitted = phd;
      l.permitted_field = s.prefix + "permittedHostDevices";
      l.mdev_config = mdc;
      l.mdev_config_field = s.prefix + "mediatedDevicesConfiguration";
      return l;
    }
  }
  for (const char* key : {"pciHostDevices", "mediatedDevices", "usb", "usbHostDevices"}) {
    if (child(doc, key).IsDefined()) {
      l.format = "permittedHostDevices mapping";
      l.permitted = doc;
      l.permitted_field = "";
      return l;
    }
  }
  p.error(line_of(doc), "(document)",
          "no permittedHostDevices found: expected a KubeVirt CR (kind: KubeVirt, "
          "spec.configuration.permittedHostDevices), a HyperConverged CR (kind: HyperConverged, "
          "spec.permittedHostDevices), or a permittedHostDevices mapping");
  return std::nullopt;
}

std::string sub(const std::string& base, const std::string& key) {
  return base.empty() ? key : base + "." + key;
}

// The one loop over a list of permittedHostDevices entries, for all three kinds: each entry is a
// mapping in which resourceName, externalResourceProvider and HyperConverged's disabled mean the
// same for every kind. `kind_key(entry, key, value, field)` reads a key of the kind and returns
// false for one it does not know (reported as unknown, with `expected` listing the keys);
// `kind_done(entry, field)` checks what the kind requires once every key is read. A disabled
// entry goes to policy.disabled, the others to `out`. A missing list (null) is an empty one.
template <class Entry, class KindKey, class KindDone>
void parse_entries(Parser& p, const YAML::Node& list, const std::string& field, const char* kind,
                   const char* expected, Policy& policy, std::vector<Entry>& out, KindKey kind_key,
                   KindDone kind_done) {
  if (!list.IsSequence()) {
    if (!list.IsNull()) p.error(line_of(list), field, "expected a list, got " + describe(list));
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string f = index_field(field, i);
    std::vector<std::pair<std::string, YAML::Node>> keys;
    if (!p.mapping(list[i], f, &keys)) continue;
    Entry d;
    d.line = line_of(list[i]);
    bool has_name = false, disabled = false;
    for (auto& [key, value] : keys) {
      if (key == "resourceName") {
        has_name = true;
        if (auto s = p.string_value(value, sub(f, key))) {
          d.resource_name = *s;
          check_resource_name(p, value, sub(f, key), *s);
        }
      } else if (key == "externalResourceProvider") {
        if (auto b = p.bool_value(value, sub(f, key))) d.external = *b;
      } else if (key == "disabled") {
        if (auto b = p.bool_value(value, sub(f, key))) disabled = *b;
      } else if (!kind_key(d, key, value, f)) {
        p.unknown(value, f, key, expected);
      }
    }
    kind_done(d, f);
    if (!has_name) p.error(d.line, f + ".resourceName", "missing");
    if (disabled) {
      policy.disabled.push_back({d.resource_name, kind, d.line});
      continue;
    }
    out.push_back(std::move(d));
  }
}

void parse_pci_addresses(Parser& p, const YAML::Node& value, const std::string& field,
                         PolicyPciDevice& d) {
  // hostpass extension: a list of full PCI addresses.
  const std::string af = field + " (hostpass extension)";
  if (!value.IsSequence() || value.size() == 0) {
    p.error(line_of(value), af,
            "expected a non-empty list of full PCI addresses (e.g. [\"0000:04:00.0\"]), "
            "got " +
                describe(value));
    return;
  }
  for (size_t j = 0; j < value.size(); ++j) {
    auto text = p.string_value(value[j], index_field(af, j));
    if (!text) continue;
    auto a = PciAddress::parse_full(*text);
    if (!a.ok()) {
      // Short addresses are refused (as one-deploy does): they are ambiguous across domains.
      auto short_form = PciAddress::parse(*text);
      p.error(line_of(value[j]), index_field(field, j) + " (hostpass extension)",
              short_form.ok() ? "\"" + *text +
                                    "\" is a short address: give the full form with the "
                                    "domain, " +
                                    short_form->to_string() +
                                    " (short addresses are ambiguous across PCI domains)"
                              : "\"" + *text +
                                    "\" is not a PCI address: expected the full form "
                                    "DDDD:BB:DD.F, as in 0000:04:00.0");
      continue;
    }
    d.addresses.push_back(*a);
  }
}

void parse_pci(Parser& p, const YAML::Node& list, const std::string& field, Policy& policy,
               bool hco) {
  // The vendor selector (either spelling) and the address selector are separate keys: a
  // mapping's keys have no order, so neither may decide how the other is read.
  bool has_vendor_key = false, has_address_key = false;
  auto kind_key = [&](PolicyPciDevice& d, const std::string& key, const YAML::Node& value,
                      const std::string& f) {
    if (key == "pciVendorSelector" || key == "pciDeviceSelector") {
      if (has_vendor_key) {
        p.error(line_of(value), sub(f, key),
                "both pciVendorSelector and pciDeviceSelector given; use one");
        return true;
      }
      has_vendor_key = true;
      d.selector_key = key;
      d.selector = parse_pci_selector(p, value, sub(f, key));
    } else if (key == "pciAddressSelector") {
      has_address_key = true;
      parse_pci_addresses(p, value, sub(f, key), d);
    } else {
      return false;
    }
    return true;
  };
  auto kind_done = [&](const PolicyPciDevice& d, const std::string& f) {
    if (!has_vendor_key && !has_address_key)
      p.error(d.line, f,
              std::string("missing ") + (hco ? "pciDeviceSelector" : "pciVendorSelector") +
                  " (or hostpass's pciAddressSelector)");
    has_vendor_key = has_address_key = false;  // for the next entry
  };
  parse_entries(p, list, field, "pci",
                hco ? "pciDeviceSelector, resourceName, externalResourceProvider, disabled, "
                      "or hostpass's pciAddressSelector"
                    : "pciVendorSelector, resourceName, externalResourceProvider, or "
                      "hostpass's pciAddressSelector",
                policy, policy.pci, kind_key, kind_done);
}

void parse_mdev(Parser& p, const YAML::Node& list, const std::string& field, Policy& policy) {
  bool has_sel = false;
  auto kind_key = [&](PolicyMdevDevice& d, const std::string& key, const YAML::Node& value,
                      const std::string& f) {
    if (key != "mdevNameSelector") return false;
    has_sel = true;
    if (auto s = p.string_value(value, sub(f, key))) {
      if (s->empty() || std::string(trim(*s)) != *s)
        p.error(line_of(value), sub(f, key),
                "\"" + *s +
                    "\" can never match: a type name is not empty and has no "
                    "leading or trailing spaces (see `hostpass mdev types`)");
      d.name_selector = *s;
    }
    return true;
  };
  auto kind_done = [&](const PolicyMdevDevice& d, const std::string& f) {
    if (!has_sel) p.error(d.line, f + ".mdevNameSelector", "missing");
    has_sel = false;  // for the next entry
  };
  parse_entries(p, list, field, "mdev", "mdevNameSelector, resourceName, externalResourceProvider",
                policy, policy.mdev, kind_key, kind_done);
}

void parse_usb_selectors(Parser& p, const YAML::Node& value, const std::string& sf,
                         PolicyUsbDevice& d) {
  if (!value.IsSequence() || value.size() == 0) {
    p.error(line_of(value), sf,
            "expected a non-empty list of {vendor, product}, got " + describe(value));
    return;
  }
  for (size_t j = 0; j < value.size(); ++j) {
    const std::string ef = index_field(sf, j);
    std::vector<std::pair<std::string, YAML::Node>> sk;
    if (!p.mapping(value[j], ef, &sk)) continue;
    UsbSelector sel;
    bool v = false, pr = false;
    for (auto& [k2, v2] : sk) {
      if (k2 == "vendor") {
        v = true;
        if (auto x = parse_usb_id(p, v2, sub(ef, k2))) sel.vendor = *x;
      } else if (k2 == "product") {
        pr = true;
        if (auto x = parse_usb_id(p, v2, sub(ef, k2))) sel.product = *x;
      } else {
        p.unknown(v2, ef, k2, "vendor, product");
      }
    }
    if (!v) p.error(line_of(value[j]), ef + ".vendor", "missing");
    if (!pr) p.error(line_of(value[j]), ef + ".product", "missing");
    d.selectors.push_back(sel);
  }
}

void parse_usb(Parser& p, const YAML::Node& list, const std::string& field, Policy& policy) {
  bool has_sel = false;
  auto kind_key = [&](PolicyUsbDevice& d, const std::string& key, const YAML::Node& value,
                      const std::string& f) {
    if (key != "selectors") return false;
    has_sel = true;
    parse_usb_selectors(p, value, sub(f, key), d);
    return true;
  };
  auto kind_done = [&](const PolicyUsbDevice& d, const std::string& f) {
    if (!has_sel) p.error(d.line, f + ".selectors", "missing");
    has_sel = false;  // for the next entry
  };
  parse_entries(p, list, field, "usb", "resourceName, selectors, externalResourceProvider", policy,
                policy.usb, kind_key, kind_done);
}

std::vector<std::string> string_list(Parser& p, const YAML::Node& n, const std::string& field) {
  std::vector<std::string> out;
  if (!n.IsSequence()) {
    p.error(line_of(n), field, "expected a list of mediated device type ids, got " + describe(n));
    return out;
  }
  for (size_t i = 0; i < n.size(); ++i)
    if (auto s = p.string_value(n[i], index_field(field, i))) out.push_back(*s);
  return out;
}

// mediatedDevicesConfiguration: mediatedDeviceTypes (or the deprecated mediatedDevicesTypes),
// nodeMediatedDeviceTypes[]{nodeSelector, mediatedDeviceTypes | mediatedDevicesTypes}.
void parse_mdev_config(Parser& p, const YAML::Node& n, const std::string& field, Policy& policy) {
  std::vector<std::pair<std::string, YAML::Node>> keys;
  if (n.IsNull()) return;
  if (!p.mapping(n, field, &keys)) return;
  MediatedDevicesConfiguration& c = policy.mdev_config;
  for (auto& [key, value] : keys) {
    if (key == "mediatedDeviceTypes" || key == "mediatedDevicesTypes") {
      for (std::string& t : string_list(p, value, sub(field, key))) c.types.push_back(t);
    } else if (key == "nodeMediatedDeviceTypes") {
      const std::string nf = sub(field, key);
      if (!value.IsSequence()) {
        p.error(line_of(value), nf, "expected a list, got " + describe(value));
        continue;
      }
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string ef = index_field(nf, i);
        std::vector<std::pair<std::string, YAML::Node>> ek;
        if (!p.mapping(value[i], ef, &ek)) continue;
        NodeMediatedDeviceTypes nt;
        nt.line = line_of(value[i]);
        bool has_selector = false;
        for (auto& [k2, v2] : ek) {
          if (k2 == "nodeSelector") {
            has_selector = true;
            std::vector<std::pair<std::string, YAML::Node>> labels;
            if (!p.mapping(v2, sub(ef, k2), &labels)) continue;
            for (auto& [label, lv] : labels)
              if (auto s = p.string_value(lv, sub(ef, k2) + "." + label))
                nt.node_selector[label] = *s;
          } else if (k2 == "mediatedDeviceTypes" || k2 == "mediatedDevicesTypes") {
            for (std::string& t : string_list(p, v2, sub(ef, k2))) nt.types.push_back(t);
          } else {
            p.unknown(v2, ef, k2, "nodeSelector, mediatedDeviceTypes");
          }
        }
        if (!has_selector) p.error(nt.line, ef + ".nodeSelector", "missing");
        c.node_types.push_back(std::move(nt));
      }
    } else {
      p.unknown(value, field, key,
                "mediatedDeviceTypes, mediatedDevicesTypes (deprecated), nodeMediatedDeviceTypes");
    }
  }
}

// What only the whole policy can tell: the same selector twice (KubeVirt keeps the last one in
// a map and drops the other silently), the same address twice, a name used for two kinds.
void cross_check(Parser& p, const Policy& policy, const std::string& base) {
  const std::string pci_f = sub(base, "pciHostDevices");
  std::map<std::pair<uint16_t, uint16_t>, const PolicyPciDevice*> by_selector;
  std::map<PciAddress, const PolicyPciDevice*> by_address;
  for (const PolicyPciDevice& d : policy.pci) {
    if (d.selector && d.addresses.empty()) {
      auto key = std::make_pair(d.selector->vendor, d.selector->device);
      auto [it, fresh] = by_selector.emplace(key, &d);
      if (!fresh)
        p.error(d.line, pci_f,
                "duplicate: selector " + vendor_device_string(key.first, key.second) +
                    " is already listed at line " + std::to_string(it->second->line) + " (for " +
                    it->second->resource_name + "); KubeVirt would silently keep only one of them");
    }
    for (const PciAddress& a : d.addresses) {
      auto [it, fresh] = by_address.emplace(a, &d);
      if (!fresh)
        p.error(d.line, pci_f + ".pciAddressSelector (hostpass extension)",
                "duplicate: " + a.to_string() + " is already claimed at line " +
                    std::to_string(it->second->line) + " (for " + it->second->resource_name + ")");
    }
  }
  std::map<std::string, const PolicyMdevDevice*> by_mdev;
  for (const PolicyMdevDevice& d : policy.mdev) {
    if (d.name_selector.empty()) continue;  // missing or invalid: reported already
    std::string key = d.name_selector;
    for (char& c : key)
      if (c == ' ') c = '_';  // mediated_device.go compares with spaces replaced by '_'
    auto [it, fresh] = by_mdev.emplace(key, &d);
    if (!fresh)
      p.error(d.line, sub(base, "mediatedDevices"),
              "duplicate: mdevNameSelector \"" + d.name_selector + "\" is already listed at line " +
                  std::to_string(it->second->line) + " (for " + it->second->resource_name + ")");
  }
  // One resource name, one kind (the device plugin serves one socket per name).
  std::map<std::string, std::pair<std::string, int>> kinds;
  auto claim = [&](const std::string& name, const char* kind, int line, const std::string& f) {
    if (name.empty()) return;
    auto [it, fresh] = kinds.emplace(name, std::make_pair(std::string(kind), line));
    if (!fresh && it->second.first != kind)
      p.error(line, f,
              "resource " + name + " is already a " + it->second.first + " resource (line " +
                  std::to_string(it->second.second) +
                  "); one resource name can only serve one kind of device");
  };
  for (const auto& d : policy.pci) claim(d.resource_name, "pci", d.line, pci_f + ".resourceName");
  for (const auto& d : policy.mdev)
    claim(d.resource_name, "mdev", d.line, sub(base, "mediatedDevices") + ".resourceName");
  for (const auto& d : policy.usb)
    claim(d.resource_name, "usb", d.line, sub(base, "usb") + ".resourceName");
  // Mixed external / served entries under one name cannot both be true.
  std::map<std::string, std::pair<bool, int>> external;
  auto ext = [&](const std::string& name, bool e, int line, const std::string& f) {
    if (name.empty()) return;
    auto [it, fresh] = external.emplace(name, std::make_pair(e, line));
    if (!fresh && it->second.first != e)
      p.error(line, f + ".externalResourceProvider",
              "resource " + name + " is external at one entry and not at another (line " +
                  std::to_string(it->second.second) + "); make them agree");
  };
  for (const auto& d : policy.pci) ext(d.resource_name, d.external, d.line, pci_f);
  for (const auto& d : policy.mdev)
    ext(d.resource_name, d.external, d.line, sub(base, "mediatedDevices"));
  for (const auto& d : policy.usb) ext(d.resource_name, d.external, d.line, sub(base, "usb"));
}

}  // namespace

// k8s.io/kubernetes pkg/apis/core/v1/helper/helpers.go IsExtendedResourceName, with
// k8s.io/apimachinery/pkg/util/validation IsQualifiedName and IsDNS1123Subdomain; the kubelet
// refuses a device plugin's Register with any other name.
bool is_extended_resource_name(const std::string& name, std::string* why) {
  auto fail = [&](std::string m) {
    if (why) *why = std::move(m);
    return false;
  };
  size_t slash = name.find('/');
  if (slash == std::string::npos)
    return fail(
        "it needs a domain prefix, as in nvidia.com/TU104GL_Tesla_T4 (names without one "
        "are Kubernetes' own resources)");
  if (name.find("kubernetes.io/") != std::string::npos)
    return fail("the kubernetes.io domain is reserved for Kubernetes' own resources");
  if (name.rfind("requests.", 0) == 0)
    return fail("the \"requests.\" prefix is reserved for resource quotas");
  if (name.find('/', slash + 1) != std::string::npos)
    return fail("it may contain only one '/' (domain/name)");
  // Checked as the quota name "requests.<name>", as Kubernetes does.
  std::string prefix = "requests." + name.substr(0, slash);
  std::string short_name = name.substr(slash + 1);
  static const std::regex dns1123_subdomain(
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  static const std::regex qualified("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$");
  if (slash == 0) return fail("the domain prefix before '/' is empty");
  if (prefix.size() > 253) return fail("the domain prefix is longer than 253 characters");
  if (!std::regex_match(prefix, dns1123_subdomain))
    return fail("the domain prefix \"" + name.substr(0, slash) +
                "\" must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', "
                "starting and ending with a letter or digit");
  if (short_name.empty()) return fail("the name after '/' is empty");
  if (short_name.size() > 63)
    return fail("the name after '/' is " + std::to_string(short_name.size()) +
                " characters long; at most 63 are allowed");
  if (!std::regex_match(short_name, qualified))
    return fail("the name after '/' (\"" + short_name +
                "\") must consist of letters, digits, '-', '_' or '.', and start and end with a "
                "letter or digit");
  return true;
}

Result<Policy> parse_policy(const std::string& yaml_text, const std::string& source_name) {
  Parser p(source_name);
  Policy policy;
  policy.source = source_name;
  try {
    std::vector<YAML::Node> docs = load_all(yaml_text);
    docs.erase(
        std::remove_if(docs.begin(), docs.end(), [](const YAML::Node& d) { return d.IsNull(); }),
        docs.end());
    if (docs.empty())
      return invalid_input(source_name +
                           ":1: (document): empty: expected a KubeVirt or "
                           "HyperConverged CR, or a permittedHostDevices mapping");
    const YAML::Node* doc = &docs[0];
    if (docs.size() > 1) {
      doc = nullptr;
      for (const YAML::Node& d : docs) {
        std::string k = kind_of(d);
        if (k != "KubeVirt" && k != "HyperConverged") continue;
        if (doc)
          return invalid_input(source_name + ":" + std::to_string(line_of(d)) +
                               ": kind: a second KubeVirt/HyperConverged CR in the same file; "
                               "give one policy per file");
        doc = &d;
      }
      if (!doc)
        return invalid_input(source_name + ":1: (document): " + std::to_string(docs.size()) +
                             " documents and none is a KubeVirt or HyperConverged CR");
    }
    auto where = locate(p, *doc);
    if (!where) return invalid_input(p.message());
    policy.format = where->format;
    bool hco = where->format == "HyperConverged CR";
    if (where->permitted.IsDefined() && !where->permitted.IsNull()) {
      std::vector<std::pair<std::string, YAML::Node>> keys;
      const std::string& base = where->permitted_field;
      if (p.mapping(where->permitted, base.empty() ? "permittedHostDevices" : base, &keys)) {
        bool usb_seen = false;
        for (auto& [key, value] : keys) {
          if (key == "pciHostDevices") {
            parse_pci(p, value, sub(base, key), policy, hco);
          } else if (key == "mediatedDevices") {
            parse_mdev(p, value, sub(base, key), policy);
          } else if (key == "usb" || key == "usbHostDevices") {
            if (usb_seen) {
              p.error(line_of(value), sub(base, key), "both usb and usbHostDevices given; use one");
              continue;
            }
            usb_seen = true;
            parse_usb(p, value, sub(base, key), policy);
          } else {
            p.unknown(value, base.empty() ? "permittedHostDevices" : base, key,
                      hco ? "pciHostDevices, mediatedDevices, usbHostDevices"
                          : "pciHostDevices, mediatedDevices, usb");
          }
        }
      }
      // In the same pass as the entries' own errors, so that one run reports them all.
      cross_check(p, policy, base);
    }
    if (where->mdev_config.IsDefined())
      parse_mdev_config(p, where->mdev_config, where->mdev_config_field, policy);
  } catch (const YAML::ParserException& e) {
    return invalid_input(source_name + ":" + std::to_string(e.mark.line + 1) +
                         ": YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    return invalid_input(source_name + ":" + std::to_string(e.mark.line + 1) +
                         ": YAML error: " + e.msg);
  }
  if (p.failed()) return invalid_input(p.message());
  return policy;
}

Result<Policy> load_policy(Host& host, const std::string& path) {
  return load_policy(host, path, path);
}

Result<Policy> load_policy(Host& host, const std::string& path, const std::string& source_name) {
  // 4 MiB is far beyond any real CR.
  auto text = host.read_file(path, 4 << 20);
  if (!text.ok()) {
    // A policy file that is not there is the user's to fix, like any other bad input.
    Error e = text.error().wrap("cannot read the policy " + source_name);
    if (e.kind == ErrorKind::NotFound) e.kind = ErrorKind::InvalidInput;
    return e;
  }
  return parse_policy(*text, source_name);
}

}  // namespace hostpass
