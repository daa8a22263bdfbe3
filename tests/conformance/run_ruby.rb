# ruby run_ruby.rb CASES.json LICENSE.rb MODULE: every case of the conformance suite through the
# Ruby verifier `charter verifier export --language ruby` wrote; prints each disagreement (case,
# verifier, expected, actual) and exits 1 when there is one.
require "json"
cases_path, license_path, module_name = ARGV
require File.expand_path(license_path)
verifier = Object.const_get(module_name)

def expand(value)
  return value if value.nil? || value.is_a?(String)
  value.map { |piece| piece.is_a?(String) ? piece : piece["repeat"] * piece["count"] }.join
end

suite = JSON.parse(File.read(cases_path))
failures = 0
suite["cases"].each do |test|
  verdict = verifier.verify(expand(test["token"]), now: test["now"], leeway: test["leeway"], build_time: test["build_time"],
                                                   revocations: expand(test["revocations"]), keys: test["keys"], product: test["product"])
  if verdict.status != test["status"]
    failures += 1
    puts "case #{test["name"]}, verifier ruby: expected #{test["status"]}, actual #{verdict.status} (#{verdict.detail})"
  elsif test["status"] == "valid" && verdict.claims != test["claims"]
    failures += 1
    puts "case #{test["name"]}, verifier ruby: expected claims #{JSON.generate(test["claims"])}, actual #{verdict.claims.inspect}"
  end
end

suite["activation_cases"].each do |test|
  verdict = verifier.verify_activation(expand(test["token"]), test["fingerprint"], now: test["now"], leeway: test["leeway"],
                                                                                   keys: test["keys"], product: test["product"])
  if verdict.status != test["status"]
    failures += 1
    puts "case #{test["name"]}, verifier ruby: expected #{test["status"]}, actual #{verdict.status} (#{verdict.detail})"
  elsif test["status"] == "valid" && verdict.claims != test["claims"]
    failures += 1
    puts "case #{test["name"]}, verifier ruby: expected claims #{JSON.generate(test["claims"])}, actual #{verdict.claims.inspect}"
  end
end

# The startup cases: each in a fresh folder holding its files.
require "fileutils"
require "tmpdir"
Dir.mktmpdir("charter-conformance") do |root|
  suite["startup_cases"].each do |test|
    folder = File.join(root, test["name"])
    FileUtils.mkdir_p(folder)
    places = test["files"] + (test["revocation_file"] ? [test["revocation_file"]] : [])
    places.each do |place|
      path = File.join(folder, place["name"])
      if place["directory"]
        Dir.mkdir(path)
      elsif place["content"]
        File.binwrite(path, expand(place["content"]))
      end
    end
    test["env"].nil? ? ENV.delete("CHARTER_CONFORMANCE_LICENSE") : ENV["CHARTER_CONFORMANCE_LICENSE"] = test["env"]
    options = { env: test["no_env"] ? nil : "CHARTER_CONFORMANCE_LICENSE", files: test["files"].map { |f| f["name"] },
                mode: test["mode"].to_sym, grace_days: test["grace_days"], renew_url: test["renew_url"],
                revocation_file: test["revocation_file"]&.fetch("name"), build_time: test["build_time"], now: test["now"],
                keys: test["keys"], product: test["product"] }
    # null: not configured, so the verifier's default applies
    options[:renewal_warning_days] = test["renewal_warning_days"] unless test["renewal_warning_days"].nil?
    result = Dir.chdir(folder) { verifier.check(**options) }
    ENV.delete("CHARTER_CONFORMANCE_LICENSE")
    actual = [result.status, result.valid, result.warning, result.message]
    expected = test.values_at("status", "valid", "warning", "message")
    next if actual == expected
    failures += 1
    puts "case #{test["name"]}, verifier ruby: expected #{expected.inspect}, actual #{actual.inspect}"
  end
end
total = suite["cases"].size + suite["startup_cases"].size + suite["activation_cases"].size
puts "ruby: #{total - failures} of #{total} cases agree"
exit(failures.zero? ? 0 : 1)
