/* xxtea: Corrected Block TEA (Wheeler and Needham, 1998).
 *
 * v holds n >= 2 32-bit words in host order; key is four host-order words.
 * How bytes map to words (little-endian on the wire in p2pd) is the caller's
 * business: see xxtea_load_le / xxtea_store_le.
 *
 * Delta 0x9E3779B9, 6 + 52/n cycles over the whole block. The block is one
 * wide permutation: no IV, so equal plaintexts under one key give equal
 * ciphertexts, and nothing here authenticates (p2pd tags every packet). */
#ifndef P2PD_XXTEA_H
#define P2PD_XXTEA_H

#include <stddef.h>
#include <stdint.h>

/* Encrypt / decrypt the n words of v in place. n < 2 is a programming error
 * (callers check packet lengths first): it ends the process with a message. */
void xxtea_encrypt(uint32_t *v, size_t n, const uint32_t key[4]);
void xxtea_decrypt(uint32_t *v, size_t n, const uint32_t key[4]);

/* Little-endian bytes <-> host words; nbytes is a multiple of 4 (anything else
 * is a programming error and ends the process). b and w may be the same buffer. */
void xxtea_load_le(uint32_t *w, const uint8_t *b, size_t nbytes);
void xxtea_store_le(uint8_t *b, const uint32_t *w, size_t nbytes);

#endif
