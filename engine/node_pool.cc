#include "engine/node_pool.h"

#include <sanitizer/asan_interface.h>  // no-op macros unless built with AddressSanitizer
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>

namespace ctxd::engine {
namespace {

constexpr size_t kHugePageBytes = size_t{2} << 20;
constexpr size_t kFirstChunkNodes = 64;
// Doubling stops here: 1,000,000 nodes take about 20 chunks.
constexpr size_t kMaxChunkBytes = size_t{64} << 20;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

// The slot a node of `bytes` takes: room for the free-list link, aligned.
size_t SlotBytes(size_t bytes) { return RoundUp(std::max(bytes, sizeof(void*)), alignof(std::max_align_t)); }

}  // namespace

NodePool::~NodePool() {
  for (const Chunk& chunk : chunks_) {
    ASAN_UNPOISON_MEMORY_REGION(chunk.data, chunk.bytes);
    if (chunk.aligned) {
      std::free(chunk.data);
    } else {
      ::operator delete(chunk.data);
    }
  }
}

void* NodePool::Allocate(size_t bytes) {
  const size_t slot = SlotBytes(bytes);
  if (node_bytes_ == 0) node_bytes_ = slot;
  if (slot != node_bytes_) return nullptr;
  if (free_ != nullptr) {
    FreeNode* node = free_;
    ASAN_UNPOISON_MEMORY_REGION(node, node_bytes_);
    free_ = node->next;
    return node;
  }
  if (next_ == end_) AddChunk();
  void* node = next_;
  next_ += node_bytes_;
  ASAN_UNPOISON_MEMORY_REGION(node, node_bytes_);
  return node;
}

bool NodePool::Deallocate(void* p, size_t bytes) {
  if (node_bytes_ == 0 || SlotBytes(bytes) != node_bytes_) return false;
  free_ = new (p) FreeNode{free_};
  // Under AddressSanitizer a node on the free list, link included, is
  // poisoned like freed memory: a use after erase is reported.
  ASAN_POISON_MEMORY_REGION(p, node_bytes_);
  return true;
}

// Each chunk holds as many nodes as all before it (64 at first), up to
// kMaxChunkBytes. Huge-page-sized chunks are aligned so every 2 MiB of them
// can be one transparent huge page; the advice is best effort (without it
// the chunk just faults in 4 KiB pages).
void NodePool::AddChunk() {
  const size_t held = chunks_.empty() ? kFirstChunkNodes * node_bytes_ : chunks_.back().bytes * 2;
  const size_t bytes = std::min(held, kMaxChunkBytes);
  Chunk chunk{nullptr, bytes, bytes >= kHugePageBytes};
  if (chunk.aligned) {
    chunk.bytes = RoundUp(bytes, kHugePageBytes);
    chunk.data = static_cast<char*>(std::aligned_alloc(kHugePageBytes, chunk.bytes));
    if (chunk.data == nullptr) throw std::bad_alloc();
    static_cast<void>(madvise(chunk.data, chunk.bytes, MADV_HUGEPAGE));
  } else {
    chunk.data = static_cast<char*>(::operator new(chunk.bytes));
  }
  ASAN_POISON_MEMORY_REGION(chunk.data, chunk.bytes);  // until handed out
  chunks_.push_back(chunk);
  next_ = chunk.data;
  end_ = chunk.data + chunk.bytes / node_bytes_ * node_bytes_;
}

}  // namespace ctxd::engine
