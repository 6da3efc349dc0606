// Files compiled into the binary with forage_embed() (cmake/Embed.cmake).
#pragma once

#include <string_view>

#define FORAGE_EMBEDDED_DECLARE(sym)                  \
  extern "C" const char forage_embed_##sym##_begin[]; \
  extern "C" const char forage_embed_##sym##_end[];
#define FORAGE_EMBEDDED(sym)                              \
  std::string_view(forage_embed_##sym##_begin,            \
                   static_cast<size_t>(forage_embed_##sym##_end - forage_embed_##sym##_begin))
