#include "releases.hpp"

#include "token_signer.hpp"

namespace charter::ops {

namespace {

Result<void> check_segment(std::string const& value, char const* what)
{
    if (value.empty() || value.size() > 200)
        return make_error(ErrorKind::invalid_input, std::string(what) + " must be 1 to 200 characters");
    if (value == "." || value == "..")
        return make_error(ErrorKind::invalid_input, std::string(what) + " \"" + value + "\" is not allowed");
    for (unsigned char c : value) {
        if (c < 0x21 || c == 0x7f || c == '/' || c == '\\' || c == '%' || c == '?' || c == '#')
            return make_error(ErrorKind::invalid_input, std::string(what) + " \"" + value
                    + "\" may not contain spaces, control characters or / \\ % ? #");
    }
    return {};
}

}

Result<void> check_release_names(NewRelease const& release)
{
    if (auto checked = check_segment(release.version, "version"); !checked)
        return checked;
    return check_segment(release.filename, "filename");
}

Result<db::Release> record_release(db::Store& store, NewRelease const& release, StoredArtifact const& artifact, int64_t now,
    db::Actor const& actor)
{
    if (auto checked = check_release_names(release); !checked)
        return checked.error();
    auto product = store.get_product(release.product);
    if (!product)
        return product.error();
    db::Release record;
    record.id = keygen::new_id("rel_");
    record.product_id = release.product;
    record.version = release.version;
    record.filename = release.filename;
    record.size = artifact.size;
    record.sha256 = artifact.sha256;
    record.released_at = release.released_at.value_or(now);
    record.created_at = now;
    auto on_duplicate = release.replace ? db::OnDuplicateRelease::replace : db::OnDuplicateRelease::refuse;
    if (auto added = store.add_release(record, on_duplicate, actor); !added) {
        if (added.error().kind == ErrorKind::conflict)
            return make_error(ErrorKind::conflict, release.product + " " + release.version + " already has " + release.filename
                    + " (use --replace to overwrite it)");
        return added.error();
    }
    if (release.replace) {
        auto stored = store.find_release(release.product, release.version, release.filename);
        if (stored)
            return *stored;
    }
    return record;
}

}
