#!/usr/bin/env python3
"""Independent Python model (hashlib BLAKE2) of ptvm's channel, PoW and Merkle tree.
Prints the frozen vectors embedded in tests/hash/*_test.cpp. Written separately from the C++."""
import hashlib, struct

P = 2**31 - 1
def b2s(data): return hashlib.blake2s(data).digest()
def le32s(ws): return b''.join(struct.pack('<I', w) for w in ws)
def words(d): return list(struct.unpack('<8I', d))

class Channel:
    def __init__(self): self.digest, self.n = bytes(32), 0
    def mix(self, data): self.digest, self.n = b2s(self.digest + data), 0
    def mix_u32s(self, ws): self.mix(le32s(ws))
    def mix_u64(self, x): self.mix_u32s([x & 0xffffffff, x >> 32])
    def mix_felts(self, fs): self.mix(le32s([c for f in fs for c in f]))
    def draw_u32s(self):
        d = b2s(self.digest + struct.pack('<I', self.n) + b'\0'); self.n += 1
        return words(d)
    def draw_felts(self, n):
        out = []
        while len(out) < n:
            w = self.draw_u32s()
            if all(x < 2 * P for x in w):
                m = [x % P for x in w]; out += [tuple(m[:4]), tuple(m[4:])]
        return out[:n]
    def draw_queries(self, log, n):
        qs, c = set(), 0
        while c < n:
            for w in self.draw_u32s():
                if c == n: break
                qs.add(w & ((1 << log) - 1)); c += 1
        return sorted(qs)
    def draw_distinct_queries(self, log, n, shift=0):
        qs, classes = set(), set()
        while len(qs) < n:
            for w in self.draw_u32s():
                if len(qs) == n: break
                q = w & ((1 << log) - 1)
                if q >> shift not in classes: classes.add(q >> shift); qs.add(q)
        return sorted(qs), self.n
    def pow_ok(self, nonce, bits):
        pre = b2s(struct.pack('<I', 0x12345678) + self.digest + struct.pack('<I', bits))
        r = b2s(pre + struct.pack('<Q', nonce))
        v = int.from_bytes(r[:16], 'little')
        tz = 128 if v == 0 else (v & -v).bit_length() - 1
        return tz >= bits
    def grind(self, bits):
        n = 0
        while not self.pow_ok(n, bits): n += 1
        return n

def node_hash(children, values):
    prefix = (b'node' if children else b'leaf') + bytes(60)
    return b2s(prefix + (children[0] + children[1] if children else b'') + le32s(values))

def merkle_root(cols):
    m = max(len(c).bit_length() - 1 for c in cols)
    prev = None
    for k in range(m, -1, -1):
        ks = [c for c in cols if len(c) == 1 << k]
        prev = [node_hash((prev[2*j], prev[2*j+1]) if prev else None, [c[j] for c in ks])
                for j in range(1 << k)]
    return prev[0]

if __name__ == '__main__':
    ch = Channel()
    print('draw_u32s', ch.draw_u32s())
    ch = Channel(); print('draw_felts2', ch.draw_felts(2))
    ch = Channel(); ch.mix_u64(0x1111222233334444); print('mix_u64', ch.digest.hex())
    ch = Channel(); ch.mix_u32s(range(1, 10)); print('mix_u32s', ch.digest.hex())
    print('merkle AB', merkle_root([[1,2,3,4],[5,6]]).hex())
    print('leaf123', node_hash(None, [1,2,3]).hex())
    # ptvm's own frozen vectors
    ch = Channel(); print('queries log10 n8', ch.draw_queries(10, 8))
    ch = Channel(); print('queries log3 n20', ch.draw_queries(3, 20))
    ch = Channel(); print('distinct log3 n8', ch.draw_distinct_queries(3, 8))
    ch = Channel(); print('distinct log4 n8 shift1', ch.draw_distinct_queries(4, 8, 1))
    ch = Channel(); print('distinct log9 n72 shift1', ch.draw_distinct_queries(9, 72, 1))
    ch = Channel(); print('queries log9 n72 (with replacement)', len(ch.draw_queries(9, 72)))
    ch = Channel(); ch.mix_felts([(1,2,3,4),(5,6,7,8)]); print('mix_felts', ch.digest.hex())
    ch = Channel(); ch.mix(bytes(range(32))); print('mix_root 00..1f', ch.digest.hex())
    ch = Channel(); print('draw_felts3', ch.draw_felts(3), 'n_draws', ch.n)
    ch = Channel(); print('grind fresh', [ch.grind(b) for b in range(0, 13)])
    ch = Channel(); ch.mix_u64(42); print('grind after mix_u64(42), bits 8,12', ch.grind(8), ch.grind(12))
    cols = [[(7 * i + 3) % P for i in range(8)], [i * i for i in range(2)], [P - 1 - i for i in range(8)],
            [11], [(1 << 30) + i for i in range(32)]]
    print('root 5 cols', merkle_root(cols).hex())
    # 3-size tree with > 16 columns at one size (two value blocks) and 16-node layers.
    cols = [[(c * 1000003 + i * 7919) % P for i in range(64)] for c in range(17)] + \
           [[(c + i) % P for i in range(16)] for c in range(3)] + [[5, 6]]
    print('root 21 cols', merkle_root(cols).hex())
    print('empty leaf', node_hash(None, []).hex())

# ---- BLAKE2b-256 trees (merkle_generic.hpp): 128-byte "leaf"/"node" prefix, LE value bytes ----
def b2b_node(children, value_bytes):
    prefix = (b'node' if children else b'leaf') + bytes(124)
    return hashlib.blake2b(prefix + (children[0] + children[1] if children else b'') + value_bytes,
                           digest_size=32).digest()

def b2b_root(cols, width):  # cols: lists of ints, each value `width` bytes LE
    m = max(len(c).bit_length() - 1 for c in cols)
    prev = None
    for k in range(m, -1, -1):
        ks = [c for c in cols if len(c) == 1 << k]
        prev = [b2b_node((prev[2*j], prev[2*j+1]) if prev else None,
                         b''.join(c[j].to_bytes(width, 'little') for c in ks)) for j in range(1 << k)]
    return prev[0]

if __name__ == '__main__':
    print('b2b M31 AB', b2b_root([[1,2,3,4],[5,6]], 4).hex())
    # QM31 (a,b,c,d) as 16 bytes = 4 LE u32 words: encode as one int a + b<<32 + c<<64 + d<<96.
    q = lambda a, b, c, d: a | b << 32 | c << 64 | d << 96
    print('b2b QM31', b2b_root([[q(1,2,3,4), q(5,6,7,8)], [q(9,10,11,12)]], 16).hex())
    print('b2b empty', b2b_node(None, b'').hex())

# ---- Blake2bChannel (blake2b_channel.hpp) ----
P128 = 407 * 2**119 + 1
def b2b256(data): return hashlib.blake2b(data, digest_size=32).digest()
class B2bChannel:
    def __init__(self): self.digest, self.n = bytes(32), 0
    def mix(self, data): self.digest, self.n = b2b256(self.digest + data), 0
    def draw(self):
        d = b2b256(self.digest + struct.pack('<I', self.n) + b'\0'); self.n += 1
        return d
    def draw_u32s(self): return list(struct.unpack('<8I', self.draw()))
    def draw_f128(self, n):
        out = []
        while len(out) < n:
            d = self.draw()
            for h in (d[:16], d[16:]):
                v = int.from_bytes(h, 'little')
                if v < P128: out.append(v)
        return out[:n]
    def draw_queries(self, log, n):
        qs, c = set(), 0
        while c < n:
            for w in self.draw_u32s():
                if c == n: break
                qs.add(w & ((1 << log) - 1)); c += 1
        return sorted(qs)

if __name__ == '__main__':
    ch = B2bChannel(); print('b2b draw_bytes', ch.draw().hex())
    ch = B2bChannel(); ch.mix(struct.pack('<Q', 0x1111222233334444)); print('b2b mix_u64', ch.digest.hex())
    ch = B2bChannel(); ch.mix(le32s(range(1, 10))); print('b2b mix_u32s', ch.digest.hex())
    ch = B2bChannel(); ch.mix(bytes(range(32))); print('b2b mix_root', ch.digest.hex())
    ch = B2bChannel(); print('b2b queries log10 n8', ch.draw_queries(10, 8), ch.n)
    ch = B2bChannel(); vs = ch.draw_f128(5); print('b2b f128 x5', [(v & (2**64-1), v >> 64) for v in vs], 'n_draws', ch.n)
    # a draw whose candidate is rejected: search a short mixed sequence
    for seed in range(200):
        ch = B2bChannel(); ch.mix_u = None; ch.mix(struct.pack('<Q', seed))
        d = ch.draw(); vals = [int.from_bytes(d[:16], 'little'), int.from_bytes(d[16:], 'little')]
        if vals[0] >= P128:
            ch = B2bChannel(); ch.mix(struct.pack('<Q', seed)); v = ch.draw_f128(2)
            print('b2b reject seed', seed, [(x & (2**64-1), x >> 64) for x in v], 'n_draws', ch.n); break
