// Placeholder until the MIME reader lands (replaced in this session).
#include "common/error.h"
#include "ioc/reader.h"
namespace forage::ioc {
void read_email(std::string_view, const Source& src, const ReadOptions&, IocSet&) { throw Error(src.file + ": email: pending"); }
}  // namespace forage::ioc
