// PLACEHOLDER main, replaced by the real command line.
#include <cstdio>
#include "maintd_version.h"
int main() { std::puts("sqlite-maintd " MAINTD_VERSION); return 0; }
