// Per-thread caches of freed memory blocks, for objects that are made and
// dropped at a high rate on one thread: the runtime's operations, and a
// protocol module's state machine per request.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace uvinet {

/// Blocks of `Size` bytes that this thread freed, up to `Keep` of them,
/// handed out again before operator new is asked: a steady stream of such
/// objects then costs malloc nothing. A block freed on another thread joins
/// that thread's cache. Blocks have operator new's alignment. Off under
/// AddressSanitizer, which then sees every block freed.
template <std::size_t Size, int Keep>
class ThreadBlockCache {
 public:
  static void* allocate() {
    FreeList& list = list_;
    if (Node* node = list.head) {
      list.head = node->next;
      --list.count;
      return node;
    }
    return ::operator new(Size);
  }

  static void deallocate(void* block) noexcept {
    FreeList& list = list_;
    if (list.count < kKeep && !list.closed) {
      if (list.count == 0) (void)&drain_;  // first use: have it emptied at thread exit
      list.head = ::new (block) Node{list.head};
      ++list.count;
      return;
    }
    ::operator delete(block);
  }

 private:
#if defined(__SANITIZE_ADDRESS__)
  static constexpr int kKeep = 0;
#else
  static constexpr int kKeep = Keep;
#endif
  struct Node {
    Node* next;
  };
  static_assert(Size >= sizeof(Node));
  // Trivially destructible, so usable to the thread's very end: a block
  // freed after drain_ ran (by another thread_local's destructor, or a
  // static one on the main thread) goes straight back to operator delete.
  struct FreeList {
    Node* head;
    int count;
    bool closed;
  };
  struct Drain {
    ~Drain() {
      list_.closed = true;
      while (list_.head) ::operator delete(std::exchange(list_.head, list_.head->next));
      list_.count = 0;
    }
  };
  static thread_local inline FreeList list_{};
  static thread_local inline Drain drain_{};
};

}  // namespace uvinet
