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
puts "ruby: #{suite["cases"].size - failures} of #{suite["cases"].size} cases agree"
exit(failures.zero? ? 0 : 1)
