// `charter issue --batch FILE`: the CSV reader, the rows as issue requests, and the checks
// Issuer::issue makes before and while it signs, against a store in a temporary folder. Every
// input's issuing runs in one transaction that is rolled back, so the store stays as it was.
//
// Byte 0: bit 0 = a default product ("--product acme-pro"); bit 1 = issue the rows (the first
// max_issued of them). The rest is the file.

#include "charter/keygen/ops/batch.hpp"
#include "charter/keygen/ops/csv_reader.hpp"
#include "fuzz_support.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>

using namespace charter;
using namespace charter::fuzz;

namespace {

constexpr size_t max_issued = 16;
constexpr char const* customer_id = "cus_fuzz";

// What the rows may name: one product and one customer (by id, or by email in any case).
class Vendor {
public:
    Vendor(std::filesystem::path folder, db::Store store)
        : m_folder(std::move(folder))
        , m_store(std::move(store))
        , m_issuer(m_store, trusted_key(), "Acme Inc.")
    {
    }
    ~Vendor()
    {
        std::error_code ignored;
        std::filesystem::remove_all(m_folder, ignored);
    }

    db::Store& store() { return m_store; }
    ops::Issuer& issuer() { return m_issuer; }

private:
    std::filesystem::path m_folder;
    db::Store m_store;
    ops::Issuer m_issuer;
};

Vendor& vendor()
{
    static std::unique_ptr<Vendor> const instance = [] {
        std::string pattern = (std::filesystem::temp_directory_path() / "charter-fuzz-csv-XXXXXX").string();
        FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr);
        std::filesystem::path folder = pattern;
        auto store = db::Store::open(folder / "charter.db", db::OpenMode::create);
        FUZZ_CHECK(store.ok());
        db::Actor actor { "fuzz" };
        auto const& key = trusted_key();
        db::SigningKeyRecord record;
        record.kid = key.kid();
        record.public_paserk = key.paserk_public();
        record.current = true;
        record.created_at = t0;
        FUZZ_CHECK(store->add_signing_key(record, actor).ok());
        FUZZ_CHECK(store->add_product(db::Product { product, "Acme Pro", false, t0 }, actor).ok());
        FUZZ_CHECK(store->add_customer(db::Customer { customer_id, "jane@example.com", "Jane", t0 }, actor).ok());
        return std::make_unique<Vendor>(folder, std::move(*store));
    }();
    return *instance;
}

// Every field quoted: the reader must give back exactly the records it read.
std::string write_csv(std::vector<ops::CsvRecord> const& records)
{
    std::string text;
    for (auto const& record : records) {
        for (size_t i = 0; i < record.fields.size(); ++i) {
            if (i > 0)
                text += ',';
            text += '"';
            for (char c : record.fields[i])
                text += c == '"' ? std::string("\"\"") : std::string(1, c);
            text += '"';
        }
        text += '\n';
    }
    return text;
}

// All records, or nullopt on an error (which must be invalid_input and name a line).
std::optional<std::vector<ops::CsvRecord>> read_csv(std::string_view text)
{
    std::istringstream in { std::string(text) };
    ops::CsvReader reader(in);
    std::vector<ops::CsvRecord> records;
    size_t last_line = 0;
    while (!reader.at_end()) {
        auto record = reader.next();
        if (!record) {
            FUZZ_CHECK(record.error().kind == ErrorKind::invalid_input);
            FUZZ_CHECK(record.error().message.rfind("line ", 0) == 0);
            return std::nullopt;
        }
        if (record->fields.empty()) {
            // Only the end of the input reads as no record at all.
            FUZZ_CHECK(reader.at_end() && record->line == 0);
            break;
        }
        FUZZ_CHECK(record->line > last_line);
        last_line = record->line;
        records.push_back(std::move(*record));
    }
    FUZZ_CHECK(last_line <= size_t(std::count(text.begin(), text.end(), '\n')) + 1);
    return records;
}

void check_csv_round_trip(std::string_view text)
{
    auto records = read_csv(text);
    if (!records)
        return;
    auto again = read_csv(write_csv(*records));
    FUZZ_CHECK(again && again->size() == records->size());
    for (size_t i = 0; i < records->size(); ++i)
        FUZZ_CHECK((*again)[i].fields == (*records)[i].fields);
}

// The license as stored and as signed says what the row asked for.
void check_license(db::License const& license, ops::IssueRequest const& request)
{
    FUZZ_CHECK(license.product_id == request.product);
    FUZZ_CHECK(license.customer_id == customer_id);
    format::Claims claims;
    std::string detail;
    FUZZ_CHECK(format::parse_claims(license.claims_json, claims, detail) == CHARTER_OK);
    FUZZ_CHECK(claims.product == license.product_id && claims.customer == license.customer_id);
    FUZZ_CHECK(claims.license_id == license.id && claims.issued_at == t0);
    FUZZ_CHECK(claims.expires_at == license.expires_at);
    FUZZ_CHECK(claims.updates_until == license.updates_until);
    FUZZ_CHECK(!claims.expires_at || *claims.expires_at > t0);
    FUZZ_CHECK(!claims.not_before || !claims.expires_at || *claims.not_before < *claims.expires_at);
    FUZZ_CHECK(claims.entitlements == request.entitlements);
    FUZZ_CHECK(claims.seats == request.seats);
    // Without a name of its own, a license is named after its customer ("Jane").
    FUZZ_CHECK(claims.name == (request.name ? request.name : std::optional<std::string>("Jane")));
}

void issue(std::vector<ops::BatchRow> const& rows)
{
    auto& vendor = ::vendor();
    db::Actor actor { "fuzz" };
    auto rolled_back = vendor.store().transaction([&]() -> Result<void> {
        for (size_t i = 0; i < rows.size() && i < max_issued; ++i) {
            auto license = vendor.issuer().issue(rows[i].request, actor, t0);
            if (license) {
                check_license(*license, rows[i].request);
                continue;
            }
            // A row can be wrong or name what does not exist; nothing else may fail.
            auto kind = license.error().kind;
            FUZZ_CHECK(kind == ErrorKind::invalid_input || kind == ErrorKind::not_found);
        }
        return make_error(ErrorKind::internal, "rolled back by the harness");
    });
    FUZZ_CHECK(!rolled_back && rolled_back.error().message == "rolled back by the harness");
}

}

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    Input input(data, size);
    uint8_t control = input.take_byte();
    std::optional<std::string> default_product;
    if (control & 1)
        default_product = product;
    std::string_view text = input.rest();
    check_csv_round_trip(text);

    std::istringstream in { std::string(text) };
    auto batch = ops::BatchReader::open(in, default_product);
    if (!batch) {
        FUZZ_CHECK(batch.error().kind == ErrorKind::invalid_input);
        return 0;
    }
    std::vector<ops::BatchRow> rows;
    while (true) {
        auto row = batch->next();
        if (!row) {
            FUZZ_CHECK(row.error().kind == ErrorKind::invalid_input);
            FUZZ_CHECK(row.error().message.rfind("line ", 0) == 0);
            break;
        }
        if (!*row)
            break;
        auto const& request = (*row)->request;
        FUZZ_CHECK(!request.customer.empty() && !request.product.empty());
        FUZZ_CHECK(rows.empty() || (*row)->line > rows.back().line);
        FUZZ_CHECK(std::none_of(request.entitlements.begin(), request.entitlements.end(),
            [](std::string const& name) { return name.empty() || name.find(';') != std::string::npos; }));
        FUZZ_CHECK(request.meta.is_object());
        for (auto const& [key, value] : request.meta.items())
            FUZZ_CHECK(!key.empty() && value.is_string());
        rows.push_back(std::move(**row));
    }
    if (control & 2)
        issue(rows);
    return 0;
}
