// Placeholder until the JSON readers land (replaced in this session).
#include "common/error.h"
#include "ioc/reader.h"
namespace forage::ioc {
void read_json(std::string_view, const Source& src, const ReadOptions&, IocSet&, Format) { throw Error(src.file + ": json: pending"); }
}  // namespace forage::ioc
