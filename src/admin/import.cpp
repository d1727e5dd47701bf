// `signaling-server import`: reads the FastAPI server's database and writes its users,
// organizations, memberships and virtual IPs into the configured one; see import.hpp.
#include "admin/import.hpp"

#include "admin/output.hpp"
#include "core/random.hpp"
#include "store/fastapi_import.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <memory>
#include <ostream>

namespace sig::admin {
namespace {

namespace json = boost::json;
using store::fastapi::import_report;

struct import_options {
  std::string from;
  bool dry_run = false;
};

json::array table_rows(const import_report& report) {
  const auto row = [](const char* table, std::int64_t before, std::int64_t after, std::int64_t imported) {
    return json::object{{"table", table}, {"before", before}, {"after", after}, {"imported", imported}};
  };
  return {row("users", report.before.users, report.after.users, report.imported.users),
          row("organizations", report.before.organizations, report.after.organizations, report.imported.organizations),
          row("memberships", report.before.memberships, report.after.memberships, report.imported.memberships),
          row("addresses", report.before.addresses, report.after.addresses, report.imported.addresses)};
}

void print_report(admin_context& c, const import_report& report, bool dry_run) {
  const auto lines = [](const std::vector<std::string>& texts) { return json::array(texts.begin(), texts.end()); };
  if (c.json) {
    print_record(c.out,
                 {{"dry_run", dry_run},
                  {"written", report.written},
                  {"tables", table_rows(report)},
                  {"skipped", lines(report.skipped)},
                  {"renumbered", lines(report.renumbered)},
                  {"problems", lines(report.problems)}},
                 true);
    return;
  }
  print_rows(c.out, table_rows(report), false);
  for (const auto& [title, texts] : {std::pair{"skipped", &report.skipped}, std::pair{"renumbered", &report.renumbered},
                                     std::pair{"refused", &report.problems}}) {
    if (texts->empty()) continue;
    c.out << "\n" << title << ":\n";
    for (const auto& text : *texts) c.out << "  " << text << "\n";
  }
}

int run_import(admin_context& c, const import_options& options, const std::string& target_url) {
  init_crypto();  // token stamps of the imported users
  store::database_location source;
  store::database_location target;
  try {
    source = store::parse_database_url(options.from);
    target = store::parse_database_url(target_url);
  } catch (const std::invalid_argument& bad) {
    c.err << "error: --from: " << bad.what() << "\n";
    return 2;
  }
  if (source.kind == target.kind && source.target == target.target) {
    c.err << "error: --from names the configured DATABASE_URL itself\n";
    return 2;
  }
  store::fastapi::source_database rows;
  try {
    rows = store::fastapi::read_source(source);
  } catch (const store::fastapi::source_error& unreadable) {
    c.err << "error: " << unreadable.what() << "\nnothing was written\n";
    return 1;
  }
  c.open_database().reset();  // refused with a clear message while a server holds the SQLite file
  const import_report report = store::fastapi::import_into(target, rows, options.dry_run);
  print_report(c, report, options.dry_run);
  if (!report.problems.empty()) {
    c.err << "refused: " << report.problems.size()
          << " row(s) of the source cannot be taken as they are (listed above); nothing was written\n";
    return 1;
  }
  const auto& n = report.imported;
  if (n.users + n.organizations + n.memberships + n.addresses == 0)
    c.err << "nothing to import: every row of the source is there already\n";
  else if (options.dry_run)
    c.err << "dry run: nothing was written\n";
  return 0;
}

}  // namespace

void add_import_command(command_set& commands, CLI::App& root, std::function<std::string()> target_database_url) {
  auto options = std::make_shared<import_options>();
  CLI::App* import = commands.command(
      &root, "import",
      "Import the users, organizations, memberships and virtual IPs of a FastAPI server's database into the "
      "configured DATABASE_URL, in one transaction, keeping ids where they are free; users keep their passwords "
      "(bcrypt, replaced by Argon2id at their first login). A second run changes nothing. Any row this server "
      "cannot take (a bad email, subnet or address) refuses the whole import",
      [options, target_database_url](admin_context& c) { return run_import(c, *options, target_database_url()); });
  import
      ->add_option("--from", options->from,
                   "The FastAPI server's DATABASE_URL: sqlite:///./app.db, postgresql://user:password@host/db or "
                   "postgresql+psycopg2://...")
      ->required();
  import->add_flag("--dry-run", options->dry_run, "Print what the import would do, and write nothing");
}

}  // namespace sig::admin
