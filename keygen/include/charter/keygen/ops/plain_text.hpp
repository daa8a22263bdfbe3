#pragma once
// Text a person typed (customer names and emails) and text read back from the database on its
// way to a terminal. A name with ESC, CR or LF in it could rewrite what the vendor's terminal
// shows (a forged line in `charter customer list`, a hidden escape sequence), so such text is
// refused where it comes in, and whatever is stored is escaped where it goes out.

#include "charter/result.hpp"

#include <string>
#include <string_view>

namespace charter::ops {

/// True for a control character: C0 (U+0000–U+001F, TAB, CR and LF included), DEL, or C1
/// (U+0080–U+009F, which some terminals obey like ESC sequences).
bool has_control_character(std::string_view text);

/// ErrorKind::invalid_input naming `what` when `text` is not valid UTF-8 or has a control
/// character (has_control_character).
Result<void> check_one_line(std::string_view text, std::string_view what);

/// `text` safe to print on a terminal: control characters and bytes that are not UTF-8
/// become \n, \r, \t, \e (ESC) or \xNN (C1 as \u0080…\u009f), and a backslash is doubled so an
/// escape cannot be forged; everything else is printed as it is.
std::string printable(std::string_view text);

}
