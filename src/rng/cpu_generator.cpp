// Access to libtorch's default CPU generator (the Mersenne Twister behind torch.manual_seed),
// which tch does not expose. Built by build.rs; used by src/rng/mod.rs.
//
// `recsys_with_default_cpu_mt` locks the generator, as ATen's own random kernels do, copies
// its engine state out, lets the Rust callback draw from (and advance) that copy, and stores
// it back before unlocking. Draws made this way continue the same stream libtorch's kernels
// (and PyTorch's, for the same seed) would produce.

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/MT19937RNGEngine.h>

#include <cstdint>
#include <cstring>
#include <mutex>

extern "C" {

// Plain-C mirror of at::mt19937_data_pod (copied field by field, not by layout).
struct recsys_mt19937 {
  uint64_t seed;
  int32_t left;
  uint8_t seeded;
  uint32_t next;
  uint32_t state[at::MERSENNE_STATE_N];
};

typedef void (*recsys_mt_callback)(void* ctx, recsys_mt19937* mt);

// Returns 0 on success, 1 when a C++ exception was raised (nothing was changed then).
int recsys_with_default_cpu_mt(recsys_mt_callback callback, void* ctx) {
  try {
    auto* gen = at::detail::getDefaultCPUGenerator().get<at::CPUGeneratorImpl>();
    std::lock_guard<std::mutex> lock(gen->mutex_);
    at::mt19937 engine = gen->engine();
    at::mt19937_data_pod pod = engine.data();
    recsys_mt19937 mt;
    mt.seed = pod.seed_;
    mt.left = pod.left_;
    mt.seeded = pod.seeded_ ? 1 : 0;
    mt.next = pod.next_;
    std::memcpy(mt.state, pod.state_.data(), sizeof(mt.state));
    callback(ctx, &mt);
    pod.seed_ = mt.seed;
    pod.left_ = mt.left;
    pod.seeded_ = mt.seeded != 0;
    pod.next_ = mt.next;
    std::memcpy(pod.state_.data(), mt.state, sizeof(mt.state));
    engine.set_data(pod);
    gen->set_engine(engine);
    return 0;
  } catch (...) {
    return 1;
  }
}

}  // extern "C"
