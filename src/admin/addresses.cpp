// `signaling-server ips list|release`: the virtual IPs of an organization. A release is made as
// the organization's owner would make it through the REST API.
#include "admin/command_set.hpp"
#include "admin/output.hpp"
#include "admin/records.hpp"

#include <ostream>

namespace sig::admin {
namespace {

namespace json = boost::json;

struct address_arguments {
  domain::id organization_id = 0;
  std::string address;
};

}  // namespace

void add_address_commands(command_set& commands) {
  CLI::App* ips = commands.group("ips", "Virtual IPs of an organization: list, release");

  auto listed = std::make_shared<domain::id>(0);
  commands
      .command(ips, "list", "Addresses of an organization, lowest first",
               [listed](admin_context& c) {
                 const auto db = c.open_database();
                 if (!find_organization(*db, *listed, c.err)) return 1;
                 json::array rows;
                 for (const auto& a : db->allocations(*listed)) rows.push_back(allocation_record(a));
                 print_rows(c.out, rows, c.json);
                 return 0;
               })
      ->add_option("organization", *listed, "Organization id")
      ->required();

  auto released = std::make_shared<address_arguments>();
  CLI::App* release =
      commands.command(ips, "release", "Release an address (it may be allocated again)", [released](admin_context& c) {
        const auto address = domain::parse_ipv4(released->address);
        if (!address) {
          c.err << "not an IPv4 address: " << released->address << "\n";
          return 2;
        }
        const auto db = c.open_database();
        const auto organization = find_organization(*db, released->organization_id, c.err);
        if (!organization) return 1;
        const auto done = db->release({organization->organization_id, organization->owner_id, *address, true});
        if (!done) return refused(c.err, done.error());
        print_rows(c.out, json::array{allocation_record(done->released.front())}, c.json);
        return 0;
      });
  release->add_option("organization", released->organization_id, "Organization id")->required();
  release->add_option("virtual_ip", released->address, "The address, e.g. 10.0.0.2")->required();
}

}  // namespace sig::admin
