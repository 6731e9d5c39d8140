/*
 * belt_protocol.h - header-only C99 reference codec for the GMBelt wire
 * protocol, version 1 (firmware_protocol/SPEC.md).
 *
 * For firmware authors: every message the belt sends or receives, encoded
 * and decoded without malloc, without globals and without any dependency
 * beyond <stdint.h>, <string.h> and <math.h>. Byte order on the wire is
 * little-endian; this code packs byte by byte, so it runs on either host
 * endianness. Floats are IEEE-754 binary32 (checked at compile time).
 *
 * Conventions
 *   - Functions return BELT_OK (0) or a negative BELT_ERR_* code; the
 *     BELT_ERR_* names match the error= keys of golden_vectors.txt and the
 *     reason of the Python codec's ProtocolError.
 *   - belt_parse_command() is the exception: it returns the BELT_STATUS_*
 *     (>= 0) the belt must answer, or BELT_ERR_TOO_SHORT for an empty write.
 *   - Outputs are written only on success, except where noted.
 *   - Decoders check, in this order: version, length, then values.
 *
 * Tested against golden_vectors.txt by test_golden.c.
 */
#ifndef BELT_PROTOCOL_H
#define BELT_PROTOCOL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------ constants */

#define BELT_PROTOCOL_VERSION 1u

/* GATT (SPEC 2). 128-bit UUIDs as strings; the service base differs in bytes 2-3. */
#define BELT_SERVICE_UUID_STR "4a1e0001-7b3c-4f5e-9d2a-6c8b0e1f2a3b"
#define BELT_FORCE_STREAM_UUID_STR "4a1e0002-7b3c-4f5e-9d2a-6c8b0e1f2a3b"
#define BELT_CONTROL_POINT_UUID_STR "4a1e0003-7b3c-4f5e-9d2a-6c8b0e1f2a3b"
#define BELT_STATUS_UUID_STR "4a1e0004-7b3c-4f5e-9d2a-6c8b0e1f2a3b"
/* The service UUID as it appears in advertising data (little-endian, 16 bytes). */
#define BELT_SERVICE_UUID_LE                                                                        \
    {0x3b, 0x2a, 0x1f, 0x0e, 0x8b, 0x6c, 0x2a, 0x9d, 0x5e, 0x4f, 0x3c, 0x7b, 0x01, 0x00, 0x1e, 0x4a}

/* Stream packet (SPEC 4). */
#define BELT_STREAM_HEADER_LEN 11u
#define BELT_SAMPLE_LEN 3u
#define BELT_MAX_ATTRIBUTE_LEN 512u /* Bluetooth Core: longest ATT value */
#define BELT_MAX_SAMPLES 167u       /* (512 - 11) / 3 */
#define BELT_MAX_STREAM_LEN (BELT_STREAM_HEADER_LEN + BELT_MAX_SAMPLES * BELT_SAMPLE_LEN) /* 512 */
#define BELT_MIN_STREAM_LEN (BELT_STREAM_HEADER_LEN + BELT_SAMPLE_LEN)                   /* 14 */
#define BELT_MIN_PERIOD_US 1000u    /* 1000 Hz */
#define BELT_MAX_PERIOD_US 100000u  /* 10 Hz */
#define BELT_COUNTS_MIN (-8388608L) /* int24 rails */
#define BELT_COUNTS_MAX 8388607L
#define BELT_ATT_NOTIFY_OVERHEAD 3u
/* Samples per notification at a negotiated ATT MTU (>= 23): 3 at 23, 77 at 247. */
#define BELT_SAMPLES_FOR_MTU(mtu)                                                                   \
    (((((mtu) - BELT_ATT_NOTIFY_OVERHEAD) < BELT_MAX_ATTRIBUTE_LEN ? ((mtu) - BELT_ATT_NOTIFY_OVERHEAD) \
                                                                     : BELT_MAX_ATTRIBUTE_LEN) -     \
      BELT_STREAM_HEADER_LEN) /                                                                     \
     BELT_SAMPLE_LEN)

/* Stream flags; bits 3-7 reserved: send 0, ignore on receipt. */
#define BELT_FLAG_SATURATED 0x01u
#define BELT_FLAG_TARE_IN_PROGRESS 0x02u
#define BELT_FLAG_STREAM_START 0x04u

/* Control point (SPEC 5). */
#define BELT_OP_START_STREAM 0x01u
#define BELT_OP_STOP_STREAM 0x02u
#define BELT_OP_TARE 0x03u
#define BELT_OP_GET_CALIBRATION 0x04u
#define BELT_OP_SET_CALIBRATION 0x05u
#define BELT_OP_GET_INFO 0x06u
#define BELT_OP_SLEEP 0x07u
#define BELT_RESPONSE_CODE 0x80u
#define BELT_MAX_COMMAND_LEN 20u  /* one write at ATT MTU 23 */
#define BELT_MAX_RESPONSE_LEN 20u /* one indication at ATT MTU 23 */
#define BELT_RESPONSE_HEADER_LEN 3u
#define BELT_MIN_RATE_HZ 10u
#define BELT_MAX_RATE_HZ 1000u
#define BELT_MIN_TARE_WINDOW_MS 1000u
#define BELT_MAX_TARE_WINDOW_MS 10000u

#define BELT_STATUS_SUCCESS 0x00
#define BELT_STATUS_UNKNOWN_OPCODE 0x01
#define BELT_STATUS_INVALID_LENGTH 0x02
#define BELT_STATUS_INVALID_PARAMETER 0x03
#define BELT_STATUS_BUSY 0x04
#define BELT_STATUS_INTERNAL_ERROR 0x05

/* Payloads. */
#define BELT_CALIBRATION_LEN 16u
#define BELT_TARE_RESULT_LEN 8u
#define BELT_INFO_LEN 9u
#define BELT_STATUS_LEN 7u

/* Status characteristic (SPEC 6). */
#define BELT_STATE_IDLE 0u
#define BELT_STATE_STREAMING 1u
#define BELT_STATE_TARING 2u
#define BELT_STATE_ERROR 3u
#define BELT_ERRF_ADC_FAULT 0x0001u
#define BELT_ERRF_OVERLOAD 0x0002u
#define BELT_ERRF_BATTERY_LOW 0x0004u
#define BELT_ERRF_CALIBRATION_MISSING 0x0008u
#define BELT_ERRF_TX_OVERFLOW 0x0010u

/* Result codes. */
#define BELT_OK 0
#define BELT_ERR_TOO_SHORT (-1)
#define BELT_ERR_TOO_LONG (-2)
#define BELT_ERR_PARTIAL_SAMPLE (-3)
#define BELT_ERR_BAD_VERSION (-4)
#define BELT_ERR_BAD_PERIOD (-5)
#define BELT_ERR_BAD_RESPONSE_CODE (-6)
#define BELT_ERR_BAD_VALUE (-7)
#define BELT_ERR_BUFFER (-8) /* the caller's output buffer is too small */

/* Floats travel as IEEE-754 binary32 bit patterns. */
typedef char belt_float_must_be_32_bits[(sizeof(float) == 4) ? 1 : -1];

/* ------------------------------------------------------------------ types */

typedef struct {
    uint8_t version;    /* BELT_PROTOCOL_VERSION */
    uint8_t flags;      /* BELT_FLAG_*; decoders keep reserved bits as received */
    uint16_t seq;       /* per stream, from 0 at STREAM_START, wraps at 65536 */
    uint32_t t0_us;     /* free-running clock at sample 0, wraps at 2^32 */
    uint32_t period_us; /* 1000..100000 */
} belt_stream_header;

typedef struct {
    int32_t zero_counts;         /* int24 range */
    float newtons_per_count;     /* finite, > 0 */
    uint32_t calibrated_at_unix; /* seconds since 1970, 0 = unknown */
    float linearity_error_n;     /* finite, >= 0 */
} belt_calibration;

typedef struct {
    int32_t zero_counts;    /* mean over the window, int24 range */
    uint16_t n_samples;     /* >= 1 */
    uint16_t spread_counts; /* max - min, saturates at 65535 */
} belt_tare_result;

typedef struct {
    uint8_t protocol_version;
    uint8_t model_id;
    uint8_t fw_major, fw_minor, fw_patch;
    uint32_t serial; /* printed "GMB-%08X" */
} belt_info;

typedef struct {
    uint8_t version;
    uint8_t battery_pct;  /* 0..100 */
    uint8_t state;        /* BELT_STATE_* */
    uint16_t error_flags; /* BELT_ERRF_*; reserved bits kept as received */
    uint16_t rate_hz;     /* 0 when not streaming, else 10..1000 */
} belt_status;

/* A parsed control-point write; only the field of its opcode is meaningful. */
typedef struct {
    uint8_t opcode;
    uint16_t rate_hz;             /* START_STREAM */
    uint16_t window_ms;           /* TARE */
    belt_calibration calibration; /* SET_CALIBRATION */
} belt_command;

/* A decoded control-point indication. For a successful TARE, GET_CALIBRATION
 * or GET_INFO reply the matching typed field is filled; payload points into
 * the caller's buffer (trailing bytes of later versions included). */
typedef struct {
    uint8_t opcode;
    uint8_t status;
    const uint8_t *payload;
    size_t payload_len;
    belt_tare_result tare;
    belt_calibration calibration;
    belt_info info;
} belt_response;

/* ------------------------------------------------------------------ little-endian helpers */

static inline void belt_put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
}
static inline void belt_put_u24(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    p[2] = (uint8_t)((v >> 16) & 0xFFu);
}
static inline void belt_put_u32(uint8_t *p, uint32_t v) {
    belt_put_u16(p, (uint16_t)(v & 0xFFFFu));
    belt_put_u16(p + 2, (uint16_t)(v >> 16));
}
static inline void belt_put_i32(uint8_t *p, int32_t v) { belt_put_u32(p, (uint32_t)v); }
static inline void belt_put_f32(uint8_t *p, float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    belt_put_u32(p, bits);
}
static inline uint16_t belt_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | ((unsigned)p[1] << 8)); }
static inline uint32_t belt_get_u24(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16);
}
static inline uint32_t belt_get_u32(const uint8_t *p) { return belt_get_u24(p) | ((uint32_t)p[3] << 24); }
static inline int32_t belt_get_i32(const uint8_t *p) {
    uint32_t u = belt_get_u32(p);
    /* Two's complement without implementation-defined conversion. */
    return (u & 0x80000000u) ? -(int32_t)(~u) - 1 : (int32_t)u;
}
static inline float belt_get_f32(const uint8_t *p) {
    uint32_t bits = belt_get_u32(p);
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}
/* One raw ADC sample: int24, sign-extended. */
static inline int32_t belt_get_i24(const uint8_t *p) {
    uint32_t u = belt_get_u24(p);
    return (u & 0x800000u) ? (int32_t)u - 0x1000000L : (int32_t)u;
}
static inline void belt_put_i24(uint8_t *p, int32_t v) { belt_put_u24(p, (uint32_t)v & 0xFFFFFFu); }

/* ------------------------------------------------------------------ stream packets */

/* Samples in a packet of len bytes, or 0 if len is not a valid packet length. */
static inline size_t belt_stream_sample_count(size_t len) {
    if (len < BELT_MIN_STREAM_LEN || len > BELT_MAX_STREAM_LEN) return 0;
    if ((len - BELT_STREAM_HEADER_LEN) % BELT_SAMPLE_LEN) return 0;
    return (len - BELT_STREAM_HEADER_LEN) / BELT_SAMPLE_LEN;
}

/* Header only: for firmware that fills samples in place with belt_put_i24(out + 11 + 3*i, v). */
static inline int belt_encode_stream_header(const belt_stream_header *h, uint8_t out[BELT_STREAM_HEADER_LEN]) {
    if (h->period_us < BELT_MIN_PERIOD_US || h->period_us > BELT_MAX_PERIOD_US) return BELT_ERR_BAD_PERIOD;
    out[0] = h->version;
    out[1] = h->flags;
    belt_put_u16(out + 2, h->seq);
    belt_put_u32(out + 4, h->t0_us);
    belt_put_u24(out + 8, h->period_us);
    return BELT_OK;
}

static inline int belt_encode_stream(const belt_stream_header *h, const int32_t *counts, size_t n, uint8_t *out,
                                     size_t out_cap, size_t *out_len) {
    size_t i, len;
    int rc;
    if (n < 1) return BELT_ERR_TOO_SHORT;
    if (n > BELT_MAX_SAMPLES) return BELT_ERR_TOO_LONG;
    len = BELT_STREAM_HEADER_LEN + n * BELT_SAMPLE_LEN;
    if (out_cap < len) return BELT_ERR_BUFFER;
    for (i = 0; i < n; i++)
        if (counts[i] < BELT_COUNTS_MIN || counts[i] > BELT_COUNTS_MAX) return BELT_ERR_BAD_VALUE;
    rc = belt_encode_stream_header(h, out);
    if (rc != BELT_OK) return rc;
    for (i = 0; i < n; i++) belt_put_i24(out + BELT_STREAM_HEADER_LEN + i * BELT_SAMPLE_LEN, counts[i]);
    *out_len = len;
    return BELT_OK;
}

/* Decodes up to max_counts samples into counts; a packet with more samples
 * returns BELT_ERR_BUFFER (size counts with BELT_MAX_SAMPLES to never see it). */
static inline int belt_decode_stream(const uint8_t *buf, size_t len, belt_stream_header *h, int32_t *counts,
                                     size_t max_counts, size_t *n_out) {
    size_t i, n;
    uint32_t period;
    if (len >= 1 && buf[0] != BELT_PROTOCOL_VERSION) return BELT_ERR_BAD_VERSION;
    if (len < BELT_MIN_STREAM_LEN) return BELT_ERR_TOO_SHORT;
    if (len > BELT_MAX_STREAM_LEN) return BELT_ERR_TOO_LONG;
    if ((len - BELT_STREAM_HEADER_LEN) % BELT_SAMPLE_LEN) return BELT_ERR_PARTIAL_SAMPLE;
    period = belt_get_u24(buf + 8);
    if (period < BELT_MIN_PERIOD_US || period > BELT_MAX_PERIOD_US) return BELT_ERR_BAD_PERIOD;
    n = (len - BELT_STREAM_HEADER_LEN) / BELT_SAMPLE_LEN;
    if (n > max_counts) return BELT_ERR_BUFFER;
    h->version = buf[0];
    h->flags = buf[1];
    h->seq = belt_get_u16(buf + 2);
    h->t0_us = belt_get_u32(buf + 4);
    h->period_us = period;
    for (i = 0; i < n; i++) counts[i] = belt_get_i24(buf + BELT_STREAM_HEADER_LEN + i * BELT_SAMPLE_LEN);
    *n_out = n;
    return BELT_OK;
}

/* ------------------------------------------------------------------ payloads */

static inline int belt_calibration_valid(const belt_calibration *c) {
    return c->zero_counts >= BELT_COUNTS_MIN && c->zero_counts <= BELT_COUNTS_MAX && isfinite(c->newtons_per_count) &&
           c->newtons_per_count > 0.0f && isfinite(c->linearity_error_n) && c->linearity_error_n >= 0.0f;
}

static inline int belt_encode_calibration(const belt_calibration *c, uint8_t out[BELT_CALIBRATION_LEN]) {
    if (!belt_calibration_valid(c)) return BELT_ERR_BAD_VALUE;
    belt_put_i32(out, c->zero_counts);
    belt_put_f32(out + 4, c->newtons_per_count);
    belt_put_u32(out + 8, c->calibrated_at_unix);
    belt_put_f32(out + 12, c->linearity_error_n);
    return BELT_OK;
}

/* Reads the first 16 bytes; trailing bytes (a later addition) are ignored. */
static inline int belt_decode_calibration(const uint8_t *p, size_t len, belt_calibration *c) {
    belt_calibration t;
    if (len < BELT_CALIBRATION_LEN) return BELT_ERR_TOO_SHORT;
    t.zero_counts = belt_get_i32(p);
    t.newtons_per_count = belt_get_f32(p + 4);
    t.calibrated_at_unix = belt_get_u32(p + 8);
    t.linearity_error_n = belt_get_f32(p + 12);
    if (!belt_calibration_valid(&t)) return BELT_ERR_BAD_VALUE;
    *c = t;
    return BELT_OK;
}

static inline int belt_encode_tare_result(const belt_tare_result *t, uint8_t out[BELT_TARE_RESULT_LEN]) {
    if (t->zero_counts < BELT_COUNTS_MIN || t->zero_counts > BELT_COUNTS_MAX || t->n_samples == 0)
        return BELT_ERR_BAD_VALUE;
    belt_put_i32(out, t->zero_counts);
    belt_put_u16(out + 4, t->n_samples);
    belt_put_u16(out + 6, t->spread_counts);
    return BELT_OK;
}

static inline int belt_decode_tare_result(const uint8_t *p, size_t len, belt_tare_result *t) {
    belt_tare_result r;
    if (len < BELT_TARE_RESULT_LEN) return BELT_ERR_TOO_SHORT;
    r.zero_counts = belt_get_i32(p);
    r.n_samples = belt_get_u16(p + 4);
    r.spread_counts = belt_get_u16(p + 6);
    if (r.zero_counts < BELT_COUNTS_MIN || r.zero_counts > BELT_COUNTS_MAX || r.n_samples == 0)
        return BELT_ERR_BAD_VALUE;
    *t = r;
    return BELT_OK;
}

static inline int belt_encode_info(const belt_info *i, uint8_t out[BELT_INFO_LEN]) {
    out[0] = i->protocol_version;
    out[1] = i->model_id;
    out[2] = i->fw_major;
    out[3] = i->fw_minor;
    out[4] = i->fw_patch;
    belt_put_u32(out + 5, i->serial);
    return BELT_OK;
}

/* The version byte is checked first: this layout is frozen so any app can read it. */
static inline int belt_decode_info(const uint8_t *p, size_t len, belt_info *i) {
    if (len < 1) return BELT_ERR_TOO_SHORT;
    if (p[0] != BELT_PROTOCOL_VERSION) return BELT_ERR_BAD_VERSION;
    if (len < BELT_INFO_LEN) return BELT_ERR_TOO_SHORT;
    i->protocol_version = p[0];
    i->model_id = p[1];
    i->fw_major = p[2];
    i->fw_minor = p[3];
    i->fw_patch = p[4];
    i->serial = belt_get_u32(p + 5);
    return BELT_OK;
}

static inline int belt_status_rate_valid(uint16_t rate_hz) {
    return rate_hz == 0 || (rate_hz >= BELT_MIN_RATE_HZ && rate_hz <= BELT_MAX_RATE_HZ);
}

static inline int belt_encode_status(const belt_status *s, uint8_t out[BELT_STATUS_LEN]) {
    if (s->battery_pct > 100 || s->state > BELT_STATE_ERROR || !belt_status_rate_valid(s->rate_hz))
        return BELT_ERR_BAD_VALUE;
    out[0] = s->version;
    out[1] = s->battery_pct;
    out[2] = s->state;
    belt_put_u16(out + 3, s->error_flags);
    belt_put_u16(out + 5, s->rate_hz);
    return BELT_OK;
}

static inline int belt_decode_status(const uint8_t *p, size_t len, belt_status *s) {
    belt_status r;
    if (len < 1) return BELT_ERR_TOO_SHORT;
    if (p[0] != BELT_PROTOCOL_VERSION) return BELT_ERR_BAD_VERSION;
    if (len < BELT_STATUS_LEN) return BELT_ERR_TOO_SHORT;
    r.version = p[0];
    r.battery_pct = p[1];
    r.state = p[2];
    r.error_flags = belt_get_u16(p + 3);
    r.rate_hz = belt_get_u16(p + 5);
    if (r.battery_pct > 100 || r.state > BELT_STATE_ERROR || !belt_status_rate_valid(r.rate_hz))
        return BELT_ERR_BAD_VALUE;
    *s = r;
    return BELT_OK;
}

/* ------------------------------------------------------------------ control point: belt side */

/* Payload length of each known opcode, or -1 for an unknown opcode. */
static inline int belt_command_payload_len(uint8_t opcode) {
    switch (opcode) {
    case BELT_OP_START_STREAM: return 2;
    case BELT_OP_TARE: return 2;
    case BELT_OP_SET_CALIBRATION: return (int)BELT_CALIBRATION_LEN;
    case BELT_OP_STOP_STREAM:
    case BELT_OP_GET_CALIBRATION:
    case BELT_OP_GET_INFO:
    case BELT_OP_SLEEP: return 0;
    default: return -1;
    }
}

/*
 * Parses a control-point write. Returns the status the belt answers, apart
 * from BUSY (SPEC 5.4: UNKNOWN_OPCODE, then INVALID_LENGTH, then
 * INVALID_PARAMETER; answer BUSY instead of SUCCESS while a command is
 * pending), or BELT_ERR_TOO_SHORT for an empty write (no opcode to echo:
 * reject it at the ATT layer). cmd->opcode is set whenever len >= 1; the
 * parameter fields only on SUCCESS.
 */
static inline int belt_parse_command(const uint8_t *buf, size_t len, belt_command *cmd) {
    int expected;
    uint16_t v;
    if (len < 1) return BELT_ERR_TOO_SHORT;
    cmd->opcode = buf[0];
    expected = belt_command_payload_len(buf[0]);
    if (expected < 0) return BELT_STATUS_UNKNOWN_OPCODE;
    if (len - 1 != (size_t)expected) return BELT_STATUS_INVALID_LENGTH;
    switch (buf[0]) {
    case BELT_OP_START_STREAM:
        v = belt_get_u16(buf + 1);
        if (v < BELT_MIN_RATE_HZ || v > BELT_MAX_RATE_HZ) return BELT_STATUS_INVALID_PARAMETER;
        cmd->rate_hz = v;
        break;
    case BELT_OP_TARE:
        v = belt_get_u16(buf + 1);
        if (v < BELT_MIN_TARE_WINDOW_MS || v > BELT_MAX_TARE_WINDOW_MS) return BELT_STATUS_INVALID_PARAMETER;
        cmd->window_ms = v;
        break;
    case BELT_OP_SET_CALIBRATION:
        if (belt_decode_calibration(buf + 1, len - 1, &cmd->calibration) != BELT_OK)
            return BELT_STATUS_INVALID_PARAMETER;
        break;
    default: break;
    }
    return BELT_STATUS_SUCCESS;
}

/* Builds a reply indication: [0x80][opcode][status][payload]. */
static inline int belt_encode_response(uint8_t opcode, uint8_t status, const uint8_t *payload, size_t payload_len,
                                       uint8_t *out, size_t out_cap, size_t *out_len) {
    size_t len = BELT_RESPONSE_HEADER_LEN + payload_len;
    if (len > BELT_MAX_RESPONSE_LEN) return BELT_ERR_TOO_LONG;
    if (out_cap < len) return BELT_ERR_BUFFER;
    out[0] = (uint8_t)BELT_RESPONSE_CODE;
    out[1] = opcode;
    out[2] = status;
    if (payload_len) memcpy(out + BELT_RESPONSE_HEADER_LEN, payload, payload_len);
    *out_len = len;
    return BELT_OK;
}

/* ------------------------------------------------------------------ control point: app side */

/* Builds a control-point write from cmd (parameters validated). */
static inline int belt_encode_command(const belt_command *cmd, uint8_t *out, size_t out_cap, size_t *out_len) {
    int plen = belt_command_payload_len(cmd->opcode);
    int rc;
    if (plen < 0) return BELT_ERR_BAD_VALUE;
    if (out_cap < (size_t)plen + 1) return BELT_ERR_BUFFER;
    switch (cmd->opcode) {
    case BELT_OP_START_STREAM:
        if (cmd->rate_hz < BELT_MIN_RATE_HZ || cmd->rate_hz > BELT_MAX_RATE_HZ) return BELT_ERR_BAD_VALUE;
        belt_put_u16(out + 1, cmd->rate_hz);
        break;
    case BELT_OP_TARE:
        if (cmd->window_ms < BELT_MIN_TARE_WINDOW_MS || cmd->window_ms > BELT_MAX_TARE_WINDOW_MS)
            return BELT_ERR_BAD_VALUE;
        belt_put_u16(out + 1, cmd->window_ms);
        break;
    case BELT_OP_SET_CALIBRATION:
        rc = belt_encode_calibration(&cmd->calibration, out + 1);
        if (rc != BELT_OK) return rc;
        break;
    default: break;
    }
    out[0] = cmd->opcode;
    *out_len = (size_t)plen + 1;
    return BELT_OK;
}

/*
 * Decodes a reply indication. Checks, in order: length >= 3, 0x80, length
 * <= 20, then (successful TARE, GET_CALIBRATION, GET_INFO replies only) the
 * typed payload. Error replies carry no payload; any bytes there are ignored.
 * An unknown status is returned as is (treat it as a failure).
 */
static inline int belt_decode_response(const uint8_t *buf, size_t len, belt_response *r) {
    belt_response t;
    int rc = BELT_OK;
    if (len < BELT_RESPONSE_HEADER_LEN) return BELT_ERR_TOO_SHORT;
    if (buf[0] != BELT_RESPONSE_CODE) return BELT_ERR_BAD_RESPONSE_CODE;
    if (len > BELT_MAX_RESPONSE_LEN) return BELT_ERR_TOO_LONG;
    memset(&t, 0, sizeof t); /* typed fields not in this reply read as zero */
    t.opcode = buf[1];
    t.status = buf[2];
    t.payload = buf + BELT_RESPONSE_HEADER_LEN;
    t.payload_len = len - BELT_RESPONSE_HEADER_LEN;
    if (t.status == BELT_STATUS_SUCCESS) {
        switch (t.opcode) {
        case BELT_OP_TARE: rc = belt_decode_tare_result(t.payload, t.payload_len, &t.tare); break;
        case BELT_OP_GET_CALIBRATION: rc = belt_decode_calibration(t.payload, t.payload_len, &t.calibration); break;
        case BELT_OP_GET_INFO: rc = belt_decode_info(t.payload, t.payload_len, &t.info); break;
        default: break;
        }
    }
    if (rc == BELT_OK) *r = t;
    return rc;
}

/* ------------------------------------------------------------------ names */

static inline const char *belt_error_name(int rc) {
    switch (rc) {
    case BELT_OK: return "OK";
    case BELT_ERR_TOO_SHORT: return "TOO_SHORT";
    case BELT_ERR_TOO_LONG: return "TOO_LONG";
    case BELT_ERR_PARTIAL_SAMPLE: return "PARTIAL_SAMPLE";
    case BELT_ERR_BAD_VERSION: return "BAD_VERSION";
    case BELT_ERR_BAD_PERIOD: return "BAD_PERIOD";
    case BELT_ERR_BAD_RESPONSE_CODE: return "BAD_RESPONSE_CODE";
    case BELT_ERR_BAD_VALUE: return "BAD_VALUE";
    case BELT_ERR_BUFFER: return "BUFFER";
    default: return "?";
    }
}

static inline const char *belt_status_name(int status) {
    switch (status) {
    case BELT_STATUS_SUCCESS: return "SUCCESS";
    case BELT_STATUS_UNKNOWN_OPCODE: return "UNKNOWN_OPCODE";
    case BELT_STATUS_INVALID_LENGTH: return "INVALID_LENGTH";
    case BELT_STATUS_INVALID_PARAMETER: return "INVALID_PARAMETER";
    case BELT_STATUS_BUSY: return "BUSY";
    case BELT_STATUS_INTERNAL_ERROR: return "INTERNAL_ERROR";
    default: return "?";
    }
}

#endif /* BELT_PROTOCOL_H */
