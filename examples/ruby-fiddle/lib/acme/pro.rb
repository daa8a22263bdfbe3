# Acme Pro: requiring it checks the license (lib/acme/pro/license.rb) and raises
# Acme::Pro::LicenseError, naming the cause, when it is not valid.
require_relative "pro/license"

module Acme
  module Pro
    VERSION = "1.0.0"
  end
end

Acme::Pro::License.check!
