// ledger.cc — see ledger.h. SQLite appears in this file and nowhere else.
#include "ledger.h"

#include <sqlite3.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "pci_device.h"
#include "vfio_rules.h"

namespace hostpass {

namespace {

constexpr const char* kSchema =
    "CREATE TABLE assignments ("
    " device TEXT PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK (kind IN ('pci', 'mdev', 'usb')),"
    " unit TEXT NOT NULL,"
    " vm TEXT NOT NULL,"
    " resource TEXT,"
    " original_driver TEXT,"
    " original_override TEXT,"
    " numa_node INTEGER,"
    " assigned_at TEXT NOT NULL);"
    "CREATE INDEX assignments_vm ON assignments(vm);"
    "CREATE INDEX assignments_unit ON assignments(unit);";

std::string rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// One statement; binds text/null/int parameters by position, steps through rows.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  void bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.c_str(), -1, SQLITE_TRANSIENT);
  }
  void bind(int i, const std::optional<std::string>& s) {
    if (s)
      bind(i, *s);
    else
      sqlite3_bind_null(stmt_, i);
  }
  void bind(int i, const std::optional<int>& v) {
    if (v)
      sqlite3_bind_int(stmt_, i, *v);
    else
      sqlite3_bind_null(stmt_, i);
  }
  int step() { return sqlite3_step(stmt_); }
  std::string text(int col) {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  std::optional<std::string> opt_text(int col) {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return text(col);
  }
  std::optional<int> opt_int(int col) {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int(stmt_, col);
  }
  int int_at(int col) { return sqlite3_column_int(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

UnitKind kind_from(const std::string& s) {
  if (s == "mdev") return UnitKind::Mdev;
  if (s == "usb") return UnitKind::Usb;
  return UnitKind::Pci;
}

class Ledger {
 public:
  ~Ledger() {
    if (in_txn_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    if (db_) sqlite3_close_v2(db_);
  }

  // Opens (creating when `create`) and validates the ledger. *absent is set when it does not
  // exist and `create` is false.
  static Result<std::unique_ptr<Ledger>> open(Host& host, const std::string& state_dir, bool create,
                                              bool* absent) {
    std::string logical = ledger_path(state_dir);
    if (!host.exists(logical)) {
      if (!create) {
        if (absent) *absent = true;
        return std::unique_ptr<Ledger>();
      }
      if (Status s = host.make_dirs(state_dir); !s.ok()) return s.error();
    }
    auto l = std::unique_ptr<Ledger>(new Ledger());
    l->path_ = host.resolve(logical);
    l->shown_ = logical;
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(l->path_.c_str(), &l->db_, flags, nullptr) != SQLITE_OK)
      return io_error("cannot open the ledger " + logical + ": " + sqlite3_errmsg(l->db_));
    sqlite3_busy_timeout(l->db_, 30000);
    sqlite3_extended_result_codes(l->db_, 1);
    if (Status s = l->check_schema(); !s.ok()) return s.error();
    if (!create) {
      // An empty file (a first assign that was refused rolled its schema back) holds nothing.
      auto v = l->user_version();
      if (!v.ok()) return v.error();
      if (*v == 0) {
        if (absent) *absent = true;
        return std::unique_ptr<Ledger>();
      }
    }
    if (Status s = l->pragmas(); !s.ok()) return s.error();
    return l;
  }

  Status exec(const char* sql, const char* what) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    if (rc != SQLITE_OK)
      return io_error(std::string(what) + " in the ledger " + shown_ + ": " + msg);
    return ok_status();
  }

  Status begin() {
    if (Status s = exec("BEGIN IMMEDIATE", "cannot take the write lock"); !s.ok()) return s;
    in_txn_ = true;
    // Another process may have created the schema while we waited for the lock.
    return ensure_schema();
  }
  Status commit() {
    Status s = exec("COMMIT", "cannot commit");
    if (s.ok()) in_txn_ = false;
    return s;
  }

  Result<std::vector<Assignment>> rows(const char* where = "",
                                       const std::vector<std::string>& args = {}) {
    std::string sql = std::string(
                          "SELECT device, kind, unit, vm, resource, original_driver, "
                          "original_override, numa_node, assigned_at FROM assignments ") +
                      where + " ORDER BY vm, device";
    Stmt q(db_, sql.c_str());
    if (!q.ok()) return io_error("cannot read the ledger " + shown_ + ": " + sqlite3_errmsg(db_));
    for (size_t i = 0; i < args.size(); ++i) q.bind(static_cast<int>(i + 1), args[i]);
    std::vector<Assignment> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      Assignment a;
      a.device = q.text(0);
      a.kind = kind_from(q.text(1));
      a.unit = q.text(2);
      a.vm = q.text(3);
      a.resource = q.opt_text(4).value_or("");
      a.original_driver = q.opt_text(5);
      a.original_override = q.opt_text(6);
      a.numa_node = q.opt_int(7);
      a.assigned_at = q.text(8);
      out.push_back(std::move(a));
    }
    if (rc != SQLITE_DONE)
      return io_error("cannot read the ledger " + shown_ + ": " + sqlite3_errmsg(db_));
    return out;
  }

  Status insert(const Assignment& a) {
    Stmt q(db_,
           "INSERT INTO assignments (device, kind, unit, vm, resource, original_driver, "
           "original_override, numa_node, assigned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!q.ok()) return io_error("cannot write the ledger " + shown_ + ": " + sqlite3_errmsg(db_));
    q.bind(1, a.device);
    q.bind(2, std::string(unit_kind_name(a.kind)));
    q.bind(3, a.unit);
    q.bind(4, a.vm);
    q.bind(5, a.resource.empty() ? std::optional<std::string>() : a.resource);
    q.bind(6, a.original_driver);
    q.bind(7, a.original_override);
    q.bind(8, a.numa_node);
    q.bind(9, a.assigned_at);
    if (q.step() != SQLITE_DONE)
      return io_error("cannot record " + a.device + " in the ledger " + shown_ + ": " +
                      sqlite3_errmsg(db_));
    return ok_status();
  }

  Status remove(const std::string& device) {
    Stmt q(db_, "DELETE FROM assignments WHERE device = ?");
    if (!q.ok()) return io_error("cannot write the ledger " + shown_ + ": " + sqlite3_errmsg(db_));
    q.bind(1, device);
    if (q.step() != SQLITE_DONE)
      return io_error("cannot delete " + device + " from the ledger " + shown_ + ": " +
                      sqlite3_errmsg(db_));
    return ok_status();
  }

  const std::string& shown() const { return shown_; }

 private:
  Ledger() = default;

  Error refuse(const std::string& why) {
    return refused("refusing the ledger " + shown_ + ": " + why +
                   "; hostpass never overwrites it: move it aside to start an empty ledger "
                   "(assignments recorded in it are then forgotten)");
  }

  Result<int> user_version() {
    Stmt q(db_, "PRAGMA user_version");
    if (!q.ok() || q.step() != SQLITE_ROW) {
      int code = sqlite3_errcode(db_) & 0xff;
      if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        return refuse(std::string("it is not a SQLite database (") + sqlite3_errmsg(db_) + ")");
      return io_error("cannot read the ledger " + shown_ + ": " + sqlite3_errmsg(db_));
    }
    return q.int_at(0);
  }

  // Tables other than ours: a database that is not a hostpass ledger.
  Result<std::vector<std::string>> tables() {
    Stmt q(db_, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    if (!q.ok()) {
      int code = sqlite3_errcode(db_) & 0xff;
      if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        return refuse(std::string("it is not a SQLite database (") + sqlite3_errmsg(db_) + ")");
      return io_error("cannot read the ledger " + shown_ + ": " + sqlite3_errmsg(db_));
    }
    std::vector<std::string> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) out.push_back(q.text(0));
    if (rc != SQLITE_DONE) {
      int code = rc & 0xff;
      if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        return refuse(std::string("it is not a SQLite database (") + sqlite3_errmsg(db_) + ")");
      return io_error("cannot read the ledger " + shown_ + ": " + sqlite3_errmsg(db_));
    }
    return out;
  }

  // Validates what is there without writing; ensure_schema() creates it under the lock.
  Status check_schema() {
    auto v = user_version();
    if (!v.ok()) return v.error();
    auto t = tables();
    if (!t.ok()) return t.error();
    if (*v > kLedgerSchemaVersion)
      return refuse("it was written by a newer hostpass (schema version " + std::to_string(*v) +
                    ", this hostpass knows version " + std::to_string(kLedgerSchemaVersion) +
                    "): upgrade hostpass");
    bool ours = std::find(t->begin(), t->end(), "assignments") != t->end();
    if (*v == kLedgerSchemaVersion && !ours)
      return refuse("it has schema version 1 but no assignments table");
    if (*v == 0 && !t->empty())
      return refuse("it is a SQLite database but not a hostpass ledger (tables: " + [&] {
        std::string s;
        for (const std::string& n : *t) s += (s.empty() ? "" : ", ") + n;
        return s;
      }() + ")");
    return ok_status();
  }

  // Outside any transaction (SQLite refuses both inside one): WAL, so readers never wait on the
  // writer (persistent in the file once set), and FULL sync, so a committed assignment survives
  // a power cut (per connection).
  Status pragmas() {
    if (Status s = exec("PRAGMA journal_mode=WAL", "cannot switch to WAL"); !s.ok()) return s;
    return exec("PRAGMA synchronous=FULL", "cannot set synchronous=FULL");
  }

  Status ensure_schema() {
    auto v = user_version();
    if (!v.ok()) return v.error();
    if (*v == kLedgerSchemaVersion) return ok_status();
    if (Status s = check_schema(); !s.ok()) return s;
    if (Status s = exec(kSchema, "cannot create the schema"); !s.ok()) return s;
    return exec("PRAGMA user_version = 1", "cannot set the schema version");
  }

  sqlite3* db_ = nullptr;
  std::string path_, shown_;
  bool in_txn_ = false;
};

// ---- the intent file ----

struct Intent {
  std::string operation;  // "assign" | "release"
  std::string vm;
  std::vector<Assignment> members;
};

nlohmann::json opt_json(const std::optional<std::string>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

Status write_intent(Host& host, const std::string& state_dir, const Intent& intent) {
  nlohmann::json m = nlohmann::json::array();
  for (const Assignment& a : intent.members)
    m.push_back({{"device", a.device},
                 {"kind", unit_kind_name(a.kind)},
                 {"unit", a.unit},
                 {"original_driver", opt_json(a.original_driver)},
                 {"original_override", opt_json(a.original_override)}});
  nlohmann::json j = {{"operation", intent.operation}, {"vm", intent.vm}, {"members", m}};
  return host.replace_file(ledger_intent_path(state_dir),
                           j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

Result<std::optional<Intent>> read_intent(Host& host, const std::string& state_dir) {
  std::string path = ledger_intent_path(state_dir);
  auto text = host.read_file(path);
  if (!text.ok()) {
    if (text.error().kind == ErrorKind::NotFound) return std::optional<Intent>();
    return text.error();
  }
  try {
    nlohmann::json j = nlohmann::json::parse(*text);
    Intent i;
    i.operation = j.at("operation").get<std::string>();
    i.vm = j.at("vm").get<std::string>();
    for (const auto& m : j.at("members")) {
      Assignment a;
      a.device = m.at("device").get<std::string>();
      a.kind = kind_from(m.at("kind").get<std::string>());
      a.unit = m.at("unit").get<std::string>();
      if (!m.at("original_driver").is_null())
        a.original_driver = m["original_driver"].get<std::string>();
      if (!m.at("original_override").is_null())
        a.original_override = m["original_override"].get<std::string>();
      a.vm = i.vm;
      i.members.push_back(std::move(a));
    }
    if (i.operation != "assign" && i.operation != "release")
      return io_error("unknown operation '" + i.operation + "' in " + path);
    return std::optional<Intent>(std::move(i));
  } catch (const nlohmann::json::exception& e) {
    return io_error("cannot read the ledger's intent " + path + ": " + e.what() +
                    "; inspect it, then remove it by hand");
  }
}

// PCI members to hand back to their host drivers: those that were not held from the host on
// entry (on a stub driver: a vfio driver or pci-stub, vfio_rules.h) and are held now.
std::vector<PciAddress> to_return(Host& host, const std::vector<Assignment>& members) {
  std::vector<PciAddress> out;
  for (const Assignment& a : members) {
    if (a.kind != UnitKind::Pci) continue;
    if (a.original_driver && is_stub_driver(*a.original_driver)) continue;
    auto addr = PciAddress::parse_full(a.device);
    if (!addr.ok()) continue;
    auto now = current_driver(host, *addr);
    if (!now || !is_stub_driver(*now)) continue;
    out.push_back(*addr);
  }
  return out;
}

std::string joined(const std::vector<PciAddress>& a) {
  std::string s;
  for (const PciAddress& x : a) s += (s.empty() ? "" : ", ") + x.to_string();
  return s;
}

// The repair itself. REQUIRES: the ledger's write lock is held (begin()).
Status repair_locked(Host& host, Ledger& db, const std::string& state_dir, LedgerRepairReport& r) {
  auto intent = read_intent(host, state_dir);
  if (!intent.ok()) return intent.error();
  if (*intent) {
    const Intent& in = **intent;
    r.intent_found = true;
    r.operation = in.operation;
    std::vector<Assignment> present;
    for (const Assignment& m : in.members) {
      auto rows = db.rows("WHERE device = ? AND vm = ?", {m.device, in.vm});
      if (!rows.ok()) return rows.error();
      for (Assignment& a : *rows) present.push_back(std::move(a));
    }
    std::string unit = in.members.empty() ? "?" : in.members.front().unit;
    bool committed = in.operation == "assign" ? !present.empty() : present.empty();
    if (committed) {
      r.notes.push_back("the interrupted " + in.operation + " of " + unit + " (VM '" + in.vm +
                        "') had been recorded; cleared its intent");
    } else {
      // assign: roll back (return the devices). release: roll forward (return, then forget).
      std::vector<PciAddress> back = to_return(host, in.members);
      if (!back.empty()) {
        BindOptions o;
        o.state_dir = state_dir;
        auto u = unbind_devices(host, back, o);
        if (!u.ok())
          return u.error().wrap("repairing the interrupted " + in.operation + " of " + unit +
                                " (VM '" + in.vm + "'): cannot return " + joined(back));
        r.unbind = *u;
      }
      if (in.operation == "release")
        for (const Assignment& a : present)
          if (Status s = db.remove(a.device); !s.ok()) return s;
      r.notes.push_back(
          in.operation == "assign"
              ? "rolled back the interrupted assign of " + unit + " to VM '" + in.vm + "'" +
                    (back.empty() ? "" : ": returned " + joined(back) + " to the host")
              : "finished the interrupted release of " + unit + " from VM '" + in.vm + "'" +
                    (back.empty() ? "" : ": returned " + joined(back) + " to the host"));
    }
  }
  // No record without a bound device.
  auto rows = db.rows();
  if (!rows.ok()) return rows.error();
  for (const Assignment& a : *rows) {
    std::string why;
    if (a.kind == UnitKind::Pci) {
      auto addr = PciAddress::parse_full(a.device);
      if (!addr.ok()) {
        why = "it is not a PCI address";
      } else if (!host.exists(pci_device_dir(*addr))) {
        why = "the device is gone from " + std::string(kPciDevicesDir);
      } else {
        // Assigned means a VM can open it: a VFIO driver, not pci-stub (vfio_rules.h).
        auto d = current_driver(host, *addr);
        if (!d || !is_vfio_driver(*d))
          why = "the device is on " + d.value_or("no driver") + ", not a vfio driver";
      }
    } else if (a.kind == UnitKind::Mdev) {
      if (!host.exists(std::string("/sys/bus/mdev/devices/") + a.device))
        why = "the mediated device no longer exists";
    }
    if (why.empty()) continue;
    if (Status s = db.remove(a.device); !s.ok()) return s;
    r.notes.push_back("dropped the record of " + a.device + " (VM '" + a.vm + "'): " + why);
  }
  return ok_status();
}

// Bind engine recovery, then ledger repair, both under the ledger's lock (REQUIRES: begin()).
// A repair that changed anything is its own transaction: it is committed, its intent removed,
// and the lock taken again, so that a later refusal of the caller's change does not undo it.
Status repair_first(Host& host, Ledger& db, const std::string& state_dir,
                    std::vector<std::string>& notes) {
  auto rec = recover(host, state_dir);
  if (!rec.ok()) return rec.error().wrap("an interrupted bind/unbind could not be recovered");
  if (rec->journal_found) {
    notes.push_back("recovered an interrupted " + rec->operation + " first");
    for (const std::string& n : rec->notes) notes.push_back(n);
  }
  LedgerRepairReport r;
  if (Status s = repair_locked(host, db, state_dir, r); !s.ok()) return s;
  for (const std::string& n : r.notes) notes.push_back(n);
  if (r.notes.empty() && !r.intent_found) return ok_status();
  if (Status s = db.commit(); !s.ok()) return s;
  if (r.intent_found)
    if (Status s = host.remove_file(ledger_intent_path(state_dir)); !s.ok()) return s;
  return db.begin();
}

Error crashed(std::string_view step) {
  return io_error("simulated crash at step '" + std::string(step) + "'");
}

// The canonical member/unit id for a name the user typed.
std::string canonical_name(std::string_view text) {
  if (auto a = PciAddress::parse(text); a.ok()) return a->to_string();
  std::string s(text);
  if (classify_unit_name(text) == NameKind::MdevUuid)
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (classify_unit_name(text) == NameKind::Usb && s.rfind("usb-", 0) != 0) s = "usb-" + s;
  return s;
}

}  // namespace

std::string ledger_path(const std::string& state_dir) {
  return join_path(state_dir, "ledger.db");
}
std::string ledger_intent_path(const std::string& state_dir) {
  return join_path(state_dir, "ledger-intent.json");
}

std::vector<std::string> member_ids(const AssignableUnit& u) {
  std::vector<std::string> ids;
  switch (u.kind) {
    case UnitKind::Pci:
      for (const PciMember& m : u.pci) ids.push_back(m.address.to_string());
      break;
    case UnitKind::Mdev:
      ids.push_back(u.mdev_uuid);
      break;
    case UnitKind::Usb:
      for (const UsbMember& m : u.usb) ids.push_back("usb-" + m.port_path);
      break;
  }
  return ids;
}

const Assignment* unit_holder(const AssignableUnit& unit, const std::vector<Assignment>& rows) {
  for (const std::string& id : member_ids(unit))
    for (const Assignment& a : rows)
      if (a.device == id) return &a;
  return nullptr;
}

Result<FreeUnit> first_free_unit(Host& host, const ResourceInventory& resource,
                                 const std::vector<Assignment>& rows, const FreeUnitQuery& query) {
  int healthy = 0, taken = 0, elsewhere = 0;
  std::vector<std::string> nodes;  // NUMA nodes of the free units skipped for query.numa_node
  for (const Unit& u : resource.units) {
    if (!u.healthy) continue;
    ++healthy;
    auto probe = read_inventory_unit(host, resource, u);
    if (!probe.ok()) continue;
    if (const Assignment* o = unit_holder(*probe, rows)) {
      if (!query.vm.empty() && o->vm == query.vm && o->unit == probe->id)
        return FreeUnit{std::move(*probe), true};
      ++taken;
      continue;
    }
    if (query.numa_node && u.numa_node != query.numa_node) {
      ++elsewhere;
      std::string node = u.numa_node ? std::to_string(*u.numa_node) : "none";
      if (std::find(nodes.begin(), nodes.end(), node) == nodes.end()) nodes.push_back(node);
      continue;
    }
    return FreeUnit{std::move(*probe), false};
  }
  std::string why = std::to_string(healthy) + " healthy unit" + (healthy == 1 ? "" : "s") + ", " +
                    std::to_string(taken) + " assigned";
  if (query.numa_node)
    why += ", " + std::to_string(elsewhere) + " free on other NUMA nodes" +
           (nodes.empty() ? "" : " (" + join(nodes, ", ") + ")");
  return refused("no free unit of " + resource.name +
                 (query.numa_node ? " on NUMA node " + std::to_string(*query.numa_node) : "") +
                 " (" + why + ")");
}

Status validate_vm_name(std::string_view vm) {
  bool ok = !vm.empty() && vm.size() <= 128 && vm.front() != '-';
  for (char c : vm)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == ':' || c == '@' || c == '-');
  if (!ok)
    return invalid_input(
        "invalid VM name '" + std::string(vm) +
        "': 1 to 128 characters of letters, digits and . _ : @ -, not starting with -");
  return ok_status();
}

Result<std::vector<Assignment>> list_assignments(Host& host, const std::string& state_dir) {
  bool absent = false;
  auto db = Ledger::open(host, state_dir, false, &absent);
  if (!db.ok()) return db.error();
  if (absent) return std::vector<Assignment>();
  return (*db)->rows();
}

Result<std::vector<AssignableUnit>> assigned_units(Host& host, const std::string& state_dir,
                                                   const std::string& vm) {
  auto rows = list_assignments(host, state_dir);
  if (!rows.ok()) return rows.error();
  std::vector<AssignableUnit> units;
  std::vector<std::string> seen;
  for (const Assignment& a : *rows) {
    if (a.vm != vm || std::find(seen.begin(), seen.end(), a.unit) != seen.end()) continue;
    seen.push_back(a.unit);
    std::optional<AssignableUnit> u;
    for (const Assignment& m : *rows) {  // every member of the unit, in the ledger's order
      if (m.unit != a.unit) continue;
      auto one = read_unit(host, m.device);
      if (!one.ok()) return one.error().wrap(m.device + " of VM '" + vm + "'");
      if (!u)
        u = std::move(*one);
      else if (u->kind == UnitKind::Pci)
        u->pci.push_back(one->pci.front());
      else if (u->kind == UnitKind::Usb)
        u->usb.push_back(one->usb.front());
    }
    u->id = a.unit;
    u->resource = a.resource;
    units.push_back(std::move(*u));
  }
  if (units.empty())
    return not_found("VM '" + vm + "' has no assigned devices (hostpass assignments)");
  return units;
}

Result<AssignReport> assign_device(Host& host, const AssignRequest& req,
                                   const Inventory* inventory) {
  if (Status s = validate_vm_name(req.vm); !s.ok()) return s.error();
  // A VM opens its devices through /dev/vfio/<group>, which only a VFIO driver creates
  // (vfio_rules.h): pci-stub holds a device from the host but gives a VM nothing to open.
  if (!is_vfio_driver(req.bind.driver))
    return invalid_input("cannot assign a device on " + req.bind.driver +
                         ": a VM can only be given a device on vfio-pci or a vfio-pci variant "
                         "driver");
  NameKind name_kind = classify_unit_name(req.device);
  if (name_kind == NameKind::Invalid) return read_unit(host, req.device).error();  // the message
  if (name_kind == NameKind::Resource && !inventory)
    return invalid_input("'" + req.device +
                         "' is a resource name: give the KubeVirt or "
                         "HyperConverged CR that defines it with -f CR.yaml");
  if (req.numa_node && name_kind != NameKind::Resource)
    return invalid_input("--numa chooses among the units of a resource; " + req.device +
                         " names one device");
  const std::string& state_dir = req.bind.state_dir;
  auto crash = [&](std::string_view step) { return req.crash_at && req.crash_at(step); };

  auto opened = Ledger::open(host, state_dir, true, nullptr);
  if (!opened.ok()) return opened.error();
  Ledger& db = **opened;
  if (Status s = db.begin(); !s.ok()) return s.error();
  if (crash("locked")) return crashed("locked");
  AssignReport report;
  if (Status s = repair_first(host, db, state_dir, report.notes); !s.ok()) return s.error();

  auto owned = db.rows();
  if (!owned.ok()) return owned.error();
  auto owner_of = [&](const std::string& device) -> const Assignment* {
    for (const Assignment& a : *owned)
      if (a.device == device) return &a;
    return nullptr;
  };

  AssignableUnit unit;
  if (name_kind == NameKind::Resource) {
    const ResourceInventory* res = nullptr;
    std::string names;
    for (const ResourceInventory& r : inventory->resources) {
      if (r.name == req.device) res = &r;
      names += (names.empty() ? "" : ", ") + r.name;
    }
    if (!res)
      return invalid_input("no resource " + req.device +
                           " in the CR (resources: " + (names.empty() ? "none" : names) + ")");
    if (res->external)
      return refused(req.device +
                     " has externalResourceProvider: true: its own device plugin "
                     "allocates it, not hostpass");
    auto free = first_free_unit(host, *res, *owned, FreeUnitQuery{req.numa_node, req.vm});
    if (!free.ok()) return free.error();
    if (free->already) {  // already this VM's: idempotent
      report.already = true;
      for (const Assignment& a : *owned)
        if (a.unit == free->unit.id) report.assigned.push_back(a);
      return report;
    }
    unit = std::move(free->unit);
    if (req.numa_node)
      report.notes.push_back("picked " + unit.id + " on NUMA node " +
                             std::to_string(*req.numa_node));
  } else {
    auto u = read_unit(host, req.device);
    if (!u.ok()) return u.error();
    unit = std::move(*u);
  }

  std::vector<std::string> ids = member_ids(unit);
  std::vector<const Assignment*> owners;
  for (const std::string& id : ids)
    if (const Assignment* o = owner_of(id)) owners.push_back(o);
  if (!owners.empty()) {
    bool all_mine = owners.size() == ids.size();
    for (const Assignment* o : owners) all_mine = all_mine && o->vm == req.vm;
    if (all_mine) {
      report.already = true;
      for (const Assignment* o : owners) report.assigned.push_back(*o);
      return report;
    }
    const Assignment* o = owners.front();
    return refused(o->device + " is already assigned to VM '" + o->vm + "' (since " +
                   o->assigned_at + "): release it first (hostpass release " + o->device + ")");
  }

  // The rows to commit, with each PCI member's state on entry.
  std::string now = rfc3339(host.now());
  std::vector<Assignment> rows;
  for (size_t i = 0; i < ids.size(); ++i) {
    Assignment a;
    a.device = ids[i];
    a.kind = unit.kind;
    a.unit = unit.id;
    a.vm = req.vm;
    a.resource = unit.resource;
    a.assigned_at = now;
    a.numa_node = unit.numa_node;
    if (unit.kind == UnitKind::Pci) {
      const PciMember& m = unit.pci[i];
      a.original_driver = current_driver(host, m.address);
      a.original_override = read_driver_override(host, m.address);
      a.numa_node = m.numa_node;
    }
    rows.push_back(std::move(a));
  }

  if (Status s = write_intent(host, state_dir, Intent{"assign", req.vm, rows}); !s.ok())
    return s.error().wrap("cannot record the intent to assign " + unit.id);
  if (crash("intent")) return crashed("intent");

  if (unit.kind == UnitKind::Pci) {
    std::vector<PciAddress> addrs;
    for (const PciMember& m : unit.pci) addrs.push_back(m.address);
    BindOptions o = req.bind;
    o.whole_group = false;
    o.dry_run = false;
    auto b = bind_devices(host, addrs, o);
    if (!b.ok()) {
      (void)host.remove_file(ledger_intent_path(state_dir));  // the engine rolled back
      return b.error().wrap("cannot assign " + unit.id + " to VM '" + req.vm + "'");
    }
    report.bind = *b;
  }
  if (crash("bound")) return crashed("bound");

  for (const Assignment& a : rows)
    if (Status s = db.insert(a); !s.ok()) return s.error();
  if (Status s = db.commit(); !s.ok())
    return s.error().wrap(
        "the devices are bound but the assignment could not be recorded; "
        "hostpass recover returns them");
  if (crash("committed")) return crashed("committed");
  if (Status s = host.remove_file(ledger_intent_path(state_dir)); !s.ok())
    report.notes.push_back("could not remove the intent file (" + s.error().message +
                           "); the next hostpass command clears it");
  report.assigned = std::move(rows);
  return report;
}

Status validate_release_request(const ReleaseRequest& req) {
  if (req.device.empty() && req.vm.empty())
    return invalid_input("name a device (or unit) to release, or a VM with --vm");
  if (!req.vm.empty())
    if (Status s = validate_vm_name(req.vm); !s.ok()) return s;
  if (!req.device.empty()) {
    NameKind k = classify_unit_name(req.device);
    if (k == NameKind::Invalid || k == NameKind::Resource)
      return invalid_input("invalid device '" + req.device +
                           "': expected a PCI address, an mdev UUID or usb-<port> (see hostpass "
                           "assignments)");
  }
  return ok_status();
}

Result<ReleaseReport> release_devices(Host& host, const ReleaseRequest& req) {
  if (Status s = validate_release_request(req); !s.ok()) return s.error();
  std::string name;
  if (!req.device.empty()) name = canonical_name(req.device);
  auto crash = [&](std::string_view step) { return req.crash_at && req.crash_at(step); };
  bool absent = false;
  auto opened = Ledger::open(host, req.state_dir, false, &absent);
  if (!opened.ok()) return opened.error();
  if (absent)
    return not_found("nothing is assigned on this host (no ledger at " +
                     ledger_path(req.state_dir) + ")");
  Ledger& db = **opened;
  if (Status s = db.begin(); !s.ok()) return s.error();
  if (crash("locked")) return crashed("locked");
  ReleaseReport report;
  if (Status s = repair_first(host, db, req.state_dir, report.notes); !s.ok()) return s.error();

  auto all = db.rows();
  if (!all.ok()) return all.error();
  std::vector<std::string> units;
  for (const Assignment& a : *all) {
    bool match =
        (name.empty() || a.device == name || a.unit == name) && (req.vm.empty() || a.vm == req.vm);
    if (match && std::find(units.begin(), units.end(), a.unit) == units.end())
      units.push_back(a.unit);
  }
  std::vector<Assignment> rows;
  for (const Assignment& a : *all)
    if (std::find(units.begin(), units.end(), a.unit) != units.end()) rows.push_back(a);
  if (rows.empty())
    return not_found(name.empty() ? "VM '" + req.vm + "' has no assigned devices"
                                  : name + " is not assigned" +
                                        (req.vm.empty() ? "" : " to VM '" + req.vm + "'") +
                                        " (hostpass assignments lists what is)");
  if (Status s = write_intent(host, req.state_dir, Intent{"release", rows.front().vm, rows});
      !s.ok())
    return s.error().wrap("cannot record the intent to release");
  if (crash("intent")) return crashed("intent");
  std::vector<PciAddress> back = to_return(host, rows);
  if (!back.empty()) {
    BindOptions o;
    o.state_dir = req.state_dir;
    auto u = unbind_devices(host, back, o);
    if (!u.ok()) {
      (void)host.remove_file(ledger_intent_path(req.state_dir));
      return u.error().wrap("cannot release " + joined(back) + " (still assigned)");
    }
    report.unbind = *u;
  }
  if (crash("returned")) return crashed("returned");
  for (const Assignment& a : rows)
    if (Status s = db.remove(a.device); !s.ok()) return s.error();
  if (Status s = db.commit(); !s.ok()) return s.error();
  if (Status s = host.remove_file(ledger_intent_path(req.state_dir)); !s.ok())
    report.notes.push_back("could not remove the intent file (" + s.error().message + ")");
  report.released = std::move(rows);
  return report;
}

Result<LedgerRepairReport> repair_ledger(Host& host, const std::string& state_dir) {
  bool absent = false;
  // An intent without a ledger: the first assign ever crashed before its commit (the schema
  // was created in that transaction); the ledger is created to roll it back.
  bool intent = host.exists(ledger_intent_path(state_dir));
  auto opened = Ledger::open(host, state_dir, intent, &absent);
  if (!opened.ok()) return opened.error();
  LedgerRepairReport report;
  if (absent) return report;
  Ledger& db = **opened;
  if (Status s = db.begin(); !s.ok()) return s.error();
  auto rec = recover(host, state_dir);
  if (!rec.ok()) return rec.error().wrap("an interrupted bind/unbind could not be recovered");
  if (Status s = repair_locked(host, db, state_dir, report); !s.ok()) return s.error();
  if (Status s = db.commit(); !s.ok()) return s.error();
  if (report.intent_found)
    if (Status s = host.remove_file(ledger_intent_path(state_dir)); !s.ok()) return s.error();
  return report;
}

}  // namespace hostpass
