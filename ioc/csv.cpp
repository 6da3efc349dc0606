// Placeholder until the CSV reader lands (replaced in this session).
#include "common/error.h"
#include "ioc/reader.h"
namespace forage::ioc {
bool looks_like_csv(std::string_view) { return false; }
void read_csv(std::string_view, const Source& src, const ReadOptions&, IocSet&) { throw Error(src.file + ": csv: pending"); }
}  // namespace forage::ioc
