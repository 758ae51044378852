// NodePoolAllocator: the allocator of the context map (State::context).
//
// Why: on the VMs ctxd runs on, the first touch of a fresh 4 KiB page costs
// about 15 µs (the hypervisor backs it), and a restart that loads 1,000,000
// keys from a snapshot spent most of its time faulting in the map's nodes one
// malloc chunk at a time. The pool hands out nodes from chunks that double in
// size; chunks of 2 MiB and more are aligned to 2 MiB and advised for
// transparent huge pages, so they fault in 512 times fewer pieces.
//
// A pool serves one node size (the first one asked for); other sizes and
// array allocations go to operator new. Freed nodes are kept on a free list
// for the next insert; chunks are returned when the last allocator sharing
// the pool (its container) is gone. A copied container gets a pool of its own
// (select_on_container_copy_construction); a moved or swapped one takes its
// pool along.
//
// Thread safety: as the container's: one thread mutates it at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace ctxd::engine {

class NodePool {
 public:
  NodePool() = default;
  ~NodePool();
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;

  // nullptr when `bytes` is not this pool's node size (the caller uses operator new).
  void* Allocate(size_t bytes);
  // False when `bytes` is not this pool's node size.
  bool Deallocate(void* p, size_t bytes);

 private:
  struct FreeNode {
    FreeNode* next;
  };
  struct Chunk {
    char* data;
    size_t bytes;
    bool aligned;  // from std::aligned_alloc, else operator new
  };

  void AddChunk();

  size_t node_bytes_ = 0;  // 0 until the first allocation
  FreeNode* free_ = nullptr;
  char* next_ = nullptr;  // unused space of the newest chunk
  char* end_ = nullptr;
  std::vector<Chunk> chunks_;
};

template <typename T>
class NodePoolAllocator {
 public:
  using value_type = T;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  using is_always_equal = std::false_type;

  NodePoolAllocator() = default;
  template <typename U>
  NodePoolAllocator(const NodePoolAllocator<U>& other) noexcept : pool_(other.pool_) {}

  T* allocate(size_t n) {
    if (n == 1) {
      if (!pool_) pool_ = std::make_shared<NodePool>();  // first use, or after a move
      if (void* p = pool_->Allocate(sizeof(T))) return static_cast<T*>(p);
    }
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(alignof(T))));
  }

  void deallocate(T* p, size_t n) noexcept {
    if (n == 1 && pool_ && pool_->Deallocate(p, sizeof(T))) return;
    ::operator delete(p, std::align_val_t(alignof(T)));
  }

  NodePoolAllocator select_on_container_copy_construction() const { return NodePoolAllocator(); }

  template <typename U>
  friend bool operator==(const NodePoolAllocator& a, const NodePoolAllocator<U>& b) {
    return a.pool_ == b.pool_;
  }

 private:
  template <typename U>
  friend class NodePoolAllocator;

  std::shared_ptr<NodePool> pool_;  // null until the first allocation
};

}  // namespace ctxd::engine
