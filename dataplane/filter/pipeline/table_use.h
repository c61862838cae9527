#pragma once

#include <cstddef>

#include "limit/token_bucket_table.h"

namespace sipwall {

// How full one worker's fixed-size tables are, for operators (metrics): the token-bucket table
// (sources tracked, inserts, evictions) and the fragment table (datagrams held). Read from
// another thread without synchronisation, like the counters: a scrape may be a burst behind.
struct TableUse {
  TableStats buckets;
  size_t fragments_in_use = 0;
  size_t fragments_capacity = 0;

  TableUse& operator+=(const TableUse& o) {
    buckets.capacity += o.buckets.capacity;
    buckets.size += o.buckets.size;
    buckets.inserts += o.buckets.inserts;
    buckets.evictions_idle += o.buckets.evictions_idle;
    buckets.evictions_busy += o.buckets.evictions_busy;
    buckets.conforming += o.buckets.conforming;
    buckets.limited += o.buckets.limited;
    fragments_in_use += o.fragments_in_use;
    fragments_capacity += o.fragments_capacity;
    return *this;
  }
};

}  // namespace sipwall
