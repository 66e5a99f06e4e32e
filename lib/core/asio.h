#pragma once
// The one way this project includes Asio. Boost 1.74's Asio in C++20 uses std::exchange
// without including <utility> (DEPENDENCIES.md): include it first, once, here.
#include <utility>
// clang-format off
#include <boost/asio.hpp>
// clang-format on

namespace asio = boost::asio;
