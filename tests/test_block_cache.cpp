// ThreadBlockCache (uvinet/block_cache.hpp): freed blocks come back on the
// same thread, no more than it keeps, and every thread's cache is its own.
#include <doctest/doctest.h>

#include <set>
#include <thread>
#include <vector>

#include "uvinet/block_cache.hpp"

namespace {

// A size no other cache in this program uses, so nothing else shares it.
using Cache = uvinet::ThreadBlockCache<4000, 4>;

}  // namespace

#if !defined(__SANITIZE_ADDRESS__)
TEST_CASE("block cache: a freed block is the next one handed out on its thread") {
  void* a = Cache::allocate();
  void* b = Cache::allocate();
  Cache::deallocate(a);
  Cache::deallocate(b);
  CHECK(Cache::allocate() == b);  // last in, first out
  CHECK(Cache::allocate() == a);
  Cache::deallocate(a);
  Cache::deallocate(b);
}

TEST_CASE("block cache: no more than Keep blocks are kept; the rest go back to the heap") {
  std::vector<void*> blocks;
  for (int i = 0; i < 6; ++i) blocks.push_back(Cache::allocate());
  for (void* block : blocks) Cache::deallocate(block);  // the first 4 are kept
  const std::set<void*> kept(blocks.begin(), blocks.begin() + 4);
  std::set<void*> again;
  for (int i = 0; i < 4; ++i) again.insert(Cache::allocate());
  CHECK(again == kept);
  for (void* block : again) Cache::deallocate(block);
}

TEST_CASE("block cache: each thread has its own, and a thread's blocks go when it ends") {
  void* mine = Cache::allocate();
  Cache::deallocate(mine);
  void* theirs = nullptr;
  std::thread([&] {
    theirs = Cache::allocate();  // not ours: this thread's cache is empty
    Cache::deallocate(theirs);   // kept here, then freed at this thread's end
  }).join();
  CHECK(theirs != mine);
  CHECK(Cache::allocate() == mine);
  Cache::deallocate(mine);
}
#endif

TEST_CASE("block cache: blocks are whole and writable, with or without the cache") {
  std::vector<unsigned char*> blocks;
  for (int i = 0; i < 8; ++i) {
    auto* block = static_cast<unsigned char*>(Cache::allocate());
    for (int at = 0; at < 4000; ++at) block[at] = static_cast<unsigned char>(i);
    blocks.push_back(block);
  }
  for (int i = 0; i < 8; ++i) {
    CHECK(blocks[i][0] == i);
    CHECK(blocks[i][3999] == i);
  }
  for (auto* block : blocks) Cache::deallocate(block);
}
