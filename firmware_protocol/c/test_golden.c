/*
 * test_golden.c - checks belt_protocol.h against golden_vectors.txt.
 *
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -o test_golden test_golden.c
 *   ./test_golden ../golden_vectors.txt
 *
 * For every vector: the decoder yields the key=values (or the expected
 * error), and the encoder reproduces the hex. Prints a summary; exits 0 only
 * if every vector passed and at least one was read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "belt_protocol.h"

#define MAX_LINE 4096
#define MAX_KV 24
#define MAX_BYTES 1024

typedef struct {
    const char *kind;
    const char *name;
    uint8_t data[MAX_BYTES];
    size_t len;
    int n_kv;
    const char *key[MAX_KV];
    const char *val[MAX_KV];
} vector;

static int g_failures;
static const vector *g_cur;

static void fail(const char *fmt, const char *a, const char *b) {
    g_failures++;
    fprintf(stderr, "FAIL %s %s: ", g_cur->kind, g_cur->name);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
}

static const char *get(const vector *v, const char *key) {
    int i;
    for (i = 0; i < v->n_kv; i++)
        if (strcmp(v->key[i], key) == 0) return v->val[i];
    return NULL;
}

/* Required key as a number (decimal or 0x hex); a missing/garbled key is a failure. */
static int num(const vector *v, const char *key, long long *out) {
    const char *s = get(v, key);
    char *end;
    if (!s) {
        fail("missing key %s%s", key, "");
        return 0;
    }
    errno = 0;
    *out = strtoll(s, &end, 0);
    if (errno || *end || end == s) {
        fail("bad number %s=%s", key, s);
        return 0;
    }
    return 1;
}

static int fnum(const vector *v, const char *key, float *out) {
    const char *s = get(v, key);
    char *end;
    if (!s) {
        fail("missing key %s%s", key, "");
        return 0;
    }
    *out = strtof(s, &end);
    if (*end || end == s) {
        fail("bad float %s=%s", key, s);
        return 0;
    }
    return 1;
}

static int optional_num(const vector *v, const char *key, long long dflt) {
    long long x = dflt;
    if (get(v, key)) num(v, key, &x);
    return (int)x;
}

static void expect_int(const char *what, long long got, long long want) {
    char a[64], b[64];
    if (got != want) {
        sprintf(a, "%s=%lld", what, got);
        sprintf(b, "%lld", want);
        fail("decoded %s, expected %s", a, b);
    }
}

static void expect_key(const vector *v, const char *key, long long got) {
    long long want;
    if (num(v, key, &want)) expect_int(key, got, want);
}

static void expect_fkey(const vector *v, const char *key, float got) {
    float want;
    if (fnum(v, key, &want) && memcmp(&got, &want, sizeof got) != 0) fail("float %s differs from %s", key, get(v, key));
}

static void expect_bytes(const uint8_t *got, size_t got_len, size_t want_len) {
    char a[32], b[32];
    if (got_len != want_len || memcmp(got, g_cur->data, want_len) != 0) {
        sprintf(a, "%lu", (unsigned long)got_len);
        sprintf(b, "%lu", (unsigned long)want_len);
        fail("encoder produced different bytes (%s bytes, expected %s)", a, b);
    }
}

static int status_code(const char *s) {
    int i;
    char *end;
    long x;
    for (i = 0; i <= BELT_STATUS_INTERNAL_ERROR; i++)
        if (strcmp(s, belt_status_name(i)) == 0) return i;
    x = strtol(s, &end, 0);
    return (*end || end == s || x < 0 || x > 255) ? -1 : (int)x;
}

static int error_code(const char *s) {
    int rc;
    for (rc = BELT_ERR_TOO_SHORT; rc >= BELT_ERR_BUFFER; rc--)
        if (strcmp(s, belt_error_name(rc)) == 0) return rc;
    return 1; /* never returned by a decoder */
}

static int state_code(const char *s) {
    static const char *const names[] = {"IDLE", "STREAMING", "TARING", "ERROR"};
    int i;
    for (i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int parse_hex(const char *s, vector *v) {
    size_t n = strlen(s), i;
    v->len = 0;
    if (strcmp(s, "-") == 0) return 1;
    if (n % 2 || n / 2 > MAX_BYTES) return 0;
    for (i = 0; i < n; i += 2) {
        int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
        if (hi < 0 || lo < 0) return 0;
        v->data[v->len++] = (uint8_t)(hi * 16 + lo);
    }
    return 1;
}

/* ------------------------------------------------------------------ per kind */

static void check_stream(const vector *v) {
    belt_stream_header h;
    int32_t counts[BELT_MAX_SAMPLES], want[BELT_MAX_SAMPLES];
    size_t n = 0, n_want = 0, i, out_len = 0;
    uint8_t out[BELT_MAX_STREAM_LEN];
    const char *s = get(v, "counts");
    char *end;
    int rc = belt_decode_stream(v->data, v->len, &h, counts, BELT_MAX_SAMPLES, &n);
    if (rc != BELT_OK) {
        fail("decode failed: %s%s", belt_error_name(rc), "");
        return;
    }
    expect_key(v, "version", h.version);
    expect_key(v, "flags", h.flags);
    expect_key(v, "seq", h.seq);
    expect_key(v, "t0_us", h.t0_us);
    expect_key(v, "period_us", h.period_us);
    expect_key(v, "n", (long long)n);
    expect_int("sample_count(len)", (long long)belt_stream_sample_count(v->len), (long long)n);
    if (!s) {
        fail("missing key %s%s", "counts", "");
        return;
    }
    for (;;) {
        long x = strtol(s, &end, 10);
        if (end == s || n_want == BELT_MAX_SAMPLES || (*end != ',' && *end != '\0')) {
            fail("bad counts list near '%s'%s", s, "");
            return;
        }
        want[n_want++] = (int32_t)x;
        if (*end == '\0') break;
        s = end + 1;
    }
    expect_int("counts length", (long long)n_want, (long long)n);
    for (i = 0; i < n && i < n_want; i++) expect_int("count", counts[i], want[i]);
    /* A buffer one sample too small must be refused, never overrun. */
    expect_int("short buffer rc", belt_decode_stream(v->data, v->len, &h, counts, n - 1, &n), BELT_ERR_BUFFER);

    rc = belt_encode_stream(&h, want, n_want, out, sizeof out, &out_len);
    if (rc != BELT_OK)
        fail("encode failed: %s%s", belt_error_name(rc), "");
    else
        expect_bytes(out, out_len, v->len);
}

static void check_command(const vector *v) {
    belt_command cmd;
    long long op;
    int want = status_code(get(v, "status") ? get(v, "status") : "?");
    int rc;
    uint8_t out[BELT_MAX_COMMAND_LEN];
    size_t out_len = 0;
    memset(&cmd, 0, sizeof cmd);
    rc = belt_parse_command(v->data, v->len, &cmd);
    if (want < 0) {
        fail("bad status %s%s", get(v, "status") ? get(v, "status") : "(missing)", "");
        return;
    }
    if (rc != want) {
        fail("parse answered %s, expected %s", rc < 0 ? belt_error_name(rc) : belt_status_name(rc), belt_status_name(want));
        return;
    }
    if (num(v, "opcode", &op)) expect_int("opcode", cmd.opcode, op);
    if (want != BELT_STATUS_SUCCESS) return;
    switch (cmd.opcode) {
    case BELT_OP_START_STREAM: expect_key(v, "rate_hz", cmd.rate_hz); break;
    case BELT_OP_TARE: expect_key(v, "window_ms", cmd.window_ms); break;
    case BELT_OP_SET_CALIBRATION:
        expect_key(v, "zero_counts", cmd.calibration.zero_counts);
        expect_fkey(v, "newtons_per_count", cmd.calibration.newtons_per_count);
        expect_key(v, "calibrated_at_unix", cmd.calibration.calibrated_at_unix);
        expect_fkey(v, "linearity_error_n", cmd.calibration.linearity_error_n);
        break;
    default: break;
    }
    rc = belt_encode_command(&cmd, out, sizeof out, &out_len);
    if (rc != BELT_OK)
        fail("encode failed: %s%s", belt_error_name(rc), "");
    else
        expect_bytes(out, out_len, v->len);
}

static void check_response(const vector *v) {
    belt_response r;
    int want = status_code(get(v, "status") ? get(v, "status") : "?");
    int extra = optional_num(v, "extra", 0), rc;
    uint8_t payload[BELT_MAX_RESPONSE_LEN], out[BELT_MAX_RESPONSE_LEN];
    size_t plen = 0, out_len = 0;
    unsigned major = 0, minor = 0, patch = 0;
    char tail;
    rc = belt_decode_response(v->data, v->len, &r);
    if (rc != BELT_OK) {
        fail("decode failed: %s%s", belt_error_name(rc), "");
        return;
    }
    expect_key(v, "opcode", r.opcode);
    if (want < 0)
        fail("bad status %s%s", get(v, "status") ? get(v, "status") : "(missing)", "");
    else
        expect_int("status", r.status, want);
    if (r.status == BELT_STATUS_SUCCESS && r.opcode == BELT_OP_TARE) {
        expect_key(v, "zero_counts", r.tare.zero_counts);
        expect_key(v, "n_samples", r.tare.n_samples);
        expect_key(v, "spread_counts", r.tare.spread_counts);
        rc = belt_encode_tare_result(&r.tare, payload);
        plen = BELT_TARE_RESULT_LEN;
    } else if (r.status == BELT_STATUS_SUCCESS && r.opcode == BELT_OP_GET_CALIBRATION) {
        expect_key(v, "zero_counts", r.calibration.zero_counts);
        expect_fkey(v, "newtons_per_count", r.calibration.newtons_per_count);
        expect_key(v, "calibrated_at_unix", r.calibration.calibrated_at_unix);
        expect_fkey(v, "linearity_error_n", r.calibration.linearity_error_n);
        rc = belt_encode_calibration(&r.calibration, payload);
        plen = BELT_CALIBRATION_LEN;
    } else if (r.status == BELT_STATUS_SUCCESS && r.opcode == BELT_OP_GET_INFO) {
        expect_key(v, "protocol_version", r.info.protocol_version);
        expect_key(v, "model_id", r.info.model_id);
        expect_key(v, "serial", r.info.serial);
        if (!get(v, "firmware") || sscanf(get(v, "firmware"), "%u.%u.%u%c", &major, &minor, &patch, &tail) != 3)
            fail("bad firmware key %s%s", get(v, "firmware") ? get(v, "firmware") : "(missing)", "");
        expect_int("fw_major", r.info.fw_major, major);
        expect_int("fw_minor", r.info.fw_minor, minor);
        expect_int("fw_patch", r.info.fw_patch, patch);
        rc = belt_encode_info(&r.info, payload);
        plen = BELT_INFO_LEN;
    }
    if (rc != BELT_OK) {
        fail("payload encode failed: %s%s", belt_error_name(rc), "");
        return;
    }
    rc = belt_encode_response(r.opcode, r.status, payload, plen, out, sizeof out, &out_len);
    if (rc != BELT_OK)
        fail("encode failed: %s%s", belt_error_name(rc), "");
    else
        expect_bytes(out, out_len, v->len - (size_t)extra);
}

static void check_status(const vector *v) {
    belt_status s;
    int extra = optional_num(v, "extra", 0), rc;
    uint8_t out[BELT_STATUS_LEN];
    const char *state = get(v, "state");
    rc = belt_decode_status(v->data, v->len, &s);
    if (rc != BELT_OK) {
        fail("decode failed: %s%s", belt_error_name(rc), "");
        return;
    }
    expect_key(v, "version", s.version);
    expect_key(v, "battery_pct", s.battery_pct);
    expect_int("state", s.state, state ? state_code(state) : -1);
    expect_key(v, "error_flags", s.error_flags);
    expect_key(v, "rate_hz", s.rate_hz);
    rc = belt_encode_status(&s, out);
    if (rc != BELT_OK)
        fail("encode failed: %s%s", belt_error_name(rc), "");
    else
        expect_bytes(out, BELT_STATUS_LEN, v->len - (size_t)extra);
}

static void check_malformed(const vector *v) {
    const char *decoder = get(v, "decoder"), *error = get(v, "error");
    int want, rc;
    belt_stream_header h;
    int32_t counts[BELT_MAX_SAMPLES];
    size_t n;
    belt_command cmd;
    belt_response r;
    belt_status s;
    if (!decoder || !error) {
        fail("needs decoder= and error=%s%s", "", "");
        return;
    }
    want = error_code(error);
    if (want > 0) {
        fail("unknown error name %s%s", error, "");
        return;
    }
    if (strcmp(decoder, "stream") == 0)
        rc = belt_decode_stream(v->data, v->len, &h, counts, BELT_MAX_SAMPLES, &n);
    else if (strcmp(decoder, "command") == 0)
        rc = belt_parse_command(v->data, v->len, &cmd);
    else if (strcmp(decoder, "response") == 0)
        rc = belt_decode_response(v->data, v->len, &r);
    else if (strcmp(decoder, "status") == 0)
        rc = belt_decode_status(v->data, v->len, &s);
    else {
        fail("unknown decoder %s%s", decoder, "");
        return;
    }
    if (rc != want) fail("decoder returned %s, expected %s", rc < 0 ? belt_error_name(rc) : "a status/OK", error);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv) {
    static char line[MAX_LINE];
    static vector v;
    static const char *const kinds[] = {"stream", "command", "response", "status", "malformed"};
    int per_kind[5] = {0, 0, 0, 0, 0}, n_vectors = 0, n_failed = 0, lineno = 0, k;
    FILE *f;
    if (argc != 2) {
        fprintf(stderr, "usage: %s golden_vectors.txt\n", argv[0]);
        return 2;
    }
    f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    while (fgets(line, sizeof line, f)) {
        char *tok, *hex;
        int failures_before = g_failures;
        size_t len = strlen(line);
        lineno++;
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            fprintf(stderr, "line %d: longer than %d bytes\n", lineno, MAX_LINE - 1);
            fclose(f);
            return 2;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0 || line[0] == '#') continue;
        memset(&v, 0, sizeof v);
        g_cur = &v;
        v.kind = strtok(line, " ");
        v.name = strtok(NULL, " ");
        hex = strtok(NULL, " ");
        if (!v.kind || !v.name || !hex) {
            fprintf(stderr, "line %d: expected <kind> <name> <hex>\n", lineno);
            g_failures++;
            n_failed++;
            continue;
        }
        if (!parse_hex(hex, &v)) {
            fail("bad hex %s%s", hex, "");
            n_failed++;
            continue;
        }
        while ((tok = strtok(NULL, " ")) != NULL) {
            char *eq = strchr(tok, '=');
            if (!eq || v.n_kv == MAX_KV) {
                fail("bad key=value %s%s", tok, "");
                break;
            }
            *eq = '\0';
            v.key[v.n_kv] = tok;
            v.val[v.n_kv++] = eq + 1;
        }
        for (k = 0; k < 5; k++)
            if (strcmp(v.kind, kinds[k]) == 0) break;
        switch (k) {
        case 0: check_stream(&v); break;
        case 1: check_command(&v); break;
        case 2: check_response(&v); break;
        case 3: check_status(&v); break;
        case 4: check_malformed(&v); break;
        default:
            fail("unknown kind %s%s", v.kind, "");
            n_failed++;
            continue;
        }
        n_vectors++;
        per_kind[k]++;
        if (g_failures != failures_before) {
            n_failed++;
            fprintf(stderr, "  (line %d)\n", lineno);
        }
    }
    fclose(f);
    printf("golden vectors: %d checked (stream %d, command %d, response %d, status %d, malformed %d), %d failed\n",
           n_vectors, per_kind[0], per_kind[1], per_kind[2], per_kind[3], per_kind[4], n_failed);
    if (n_vectors == 0) {
        fprintf(stderr, "no vectors read from %s\n", argv[1]);
        return 1;
    }
    return g_failures ? 1 : 0;
}
