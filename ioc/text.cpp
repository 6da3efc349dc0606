// Placeholder until the free-text extractor lands (replaced in this session).
#include "common/error.h"
#include "ioc/reader.h"
namespace forage::ioc {
bool looks_like_list(std::string_view) { return false; }
void read_list(std::string_view, const Source& src, IocSet&) { throw Error(src.file + ": lists: pending"); }
void read_text(std::string_view, const Source& src, IocSet&) { throw Error(src.file + ": text: pending"); }
}  // namespace forage::ioc
