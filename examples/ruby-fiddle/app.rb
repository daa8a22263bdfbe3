# The customer's program: uses the acme-pro gem, whose require checks the license.
# Prints the licensee and entitlements, or why acme-pro may not run (exit status 1).
begin
  require "acme/pro"
rescue Acme::Pro::LicenseError => e
  warn e.message
  exit 1
end

if (info = Acme::Pro::License.info)
  puts "licensed to #{info.licensee} (#{info.id})"
  puts "entitlements: #{info.entitlements.empty? ? "none" : info.entitlements.join(", ")}"
end
