#include "worker/cli.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/keys.h"
#include "common/util.h"

void
cli_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: connectd [-s] [-d [pidfile]] [-y host[:port]] [-v] [--no-sandbox] -f FILE\n"
	    "       connectd [options] -e BASE64-PROVISIONING\n"
	    "       connectd [options] -c B64USER B64PASSWORD UID TPORT ENC [BINDADDR [MAXDEPTH "
	    "[LIFETIME IDLE]]]\n"
	    "       connectd [options] -p B64USER AUTH_HASH UID TPORT ENC [BINDADDR [RESTRICTIP "
	    "[MAXDEPTH [LIFETIME [IDLE]]]]]\n"
	    "       connectd -f FILE --check\n"
	    "       connectd --hash USER PASSWORD\n"
	    "       connectd -n [-y host[:port]] | --sandbox-test\n"
	    "       connectd --version | -h\n"
	    "\n"
	    "  -f FILE          provisioning file (initiator or target, see p2p-provisioning(5))\n"
	    "  -e BASE64        the provisioning file's text, base64-encoded\n"
	    "  -c ...           initiator from the command line, password given (deprecated)\n"
	    "  -p ...           initiator from the command line, auth_hash given\n"
	    "                   (-c and -p must come last; TPORT is the local port as T33000;\n"
	    "                   ENC is 0 none, 1 RC4, 2 XXTEA, 3 ChaCha20-Poly1305)\n"
	    "  -s               print !! status lines on stdout\n"
	    "  -d [pidfile]     detach into the background, writing the pid to pidfile\n"
	    "  -y host[:port]   rendezvous server (default: the file's server, $P2P_SERVER,\n"
	    "                   localhost:5959)\n"
	    "  -v               debug logging\n"
	    "  -n               network diagnostics: DNS, TCP and UDP to the server, NAT\n"
	    "                   behaviour (STUN), cipher self-tests; exit 0 if all passed\n"
	    "  --check          validate the provisioning, print it with secrets masked, exit\n"
	    "  --hash U P       print the auth_hash of user U with password P\n"
	    "  --no-sandbox     do not sandbox this process (debugging only)\n"
	    "  --sandbox-test   enter the sandbox, try what it must forbid (open, exec, fork,\n"
	    "                   raw sockets), report each; exit 0 if all were blocked\n"
	    "  --version        print the version\n"
	    "  -h, --help       this text\n"
	    "\n"
	    "Exit codes: 0 ok, 1 lifetime or idle limit, 2 shutdown by peer, 3 signal,\n"
	    "4 disabled (autoconnect 0), 10 bad user, 11 auth error, 12 autoconnect failed,\n"
	    "13 session create failed, 14 target not online, 15 no UID, 16 cannot bind UDP,\n"
	    "17 cannot bind proxy port, 20 peer closed or timed out, 21 P2P connect failed,\n"
	    "25 unknown, 64 usage, 78 invalid provisioning.\n");
}

static void
wipe_arg(char *a)
{
	sodium_memzero(a, strlen(a));
}

static int
usage_err(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return -1;
}

int
cli_parse(int argc, char **argv, struct cli *c, char *err, size_t errlen)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->action = CLI_RUN;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((strcmp(a, "-c") == 0 || strcmp(a, "-p") == 0 || strcmp(a, "-f") == 0 ||
		     strcmp(a, "-e") == 0) &&
		    c->source != CLI_SRC_NONE)
			return usage_err(err, errlen,
					 "%s: give one provisioning source only (-f, -e, -c or -p)",
					 a);
		if (strcmp(a, "-c") == 0 || strcmp(a, "-p") == 0) {
			c->source = a[1] == 'c' ? CLI_SRC_C : CLI_SRC_P;
			c->npos = argc - i - 1;
			if (c->npos > CLI_MAX_POS)
				return usage_err(err, errlen,
						 "%s: too many parameters (at most 10)", a);
			if (c->npos < 5)
				return usage_err(
				    err, errlen,
				    "%s needs at least 5 parameters: B64USER "
				    "B64PASSWORD|AUTH_HASH UID TPORT ENC (and must come last)",
				    a);
			for (int k = 0; k < c->npos; k++) {
				c->pos[k] = argv[i + 1 + k];
				if (c->pos[k][0] == '-' &&
				    (isalpha((unsigned char)c->pos[k][1]) || c->pos[k][1] == '-')) {
					snprintf(err, errlen,
						 "%s must come last: '%s' follows its parameters",
						 a, c->pos[k]);
					return -1;
				}
			}
			break;
		} else if (strcmp(a, "-f") == 0 || strcmp(a, "-e") == 0 || strcmp(a, "-y") == 0) {
			if (i + 1 >= argc)
				return usage_err(err, errlen, "%s needs an argument", a);
			if (a[1] == 'f') {
				c->source = CLI_SRC_FILE;
				c->file = argv[++i];
			} else if (a[1] == 'y') {
				c->server = argv[++i];
			} else {
				const char *t = argv[++i];
				size_t cap = strlen(t) / 4 * 3 + 3;
				free(c->text);
				c->text = malloc(cap + 1);
				if (c->text == NULL)
					return usage_err(err, errlen, "%s: out of memory", a);
				if (b64_decode(t, strlen(t), (uint8_t *)c->text, cap,
					       &c->textlen) == -1)
					return usage_err(
					    err, errlen,
					    "-e: the argument is not valid base64 (%s)",
					    "RFC 4648, with = padding");
				c->text[c->textlen] = '\0';
				c->source = CLI_SRC_TEXT;
				wipe_arg(argv[i]); /* it may hold credentials */
			}
		} else if (strcmp(a, "-s") == 0) {
			c->status_lines = 1;
		} else if (strcmp(a, "-v") == 0) {
			c->verbose = 1;
		} else if (strcmp(a, "-d") == 0) {
			c->daemonize = 1;
			if (i + 1 < argc && argv[i + 1][0] != '-')
				c->pidfile = argv[++i];
		} else if (strcmp(a, "-n") == 0) {
			c->action = CLI_DIAG;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			c->action = CLI_HELP;
		} else if (strcmp(a, "--version") == 0) {
			c->action = CLI_VERSION;
		} else if (strcmp(a, "--check") == 0) {
			c->action = CLI_CHECK;
		} else if (strcmp(a, "--sandbox-test") == 0) {
			c->action = CLI_SANDBOX_TEST;
		} else if (strcmp(a, "--no-sandbox") == 0) {
			c->no_sandbox = 1;
		} else if (strcmp(a, "--hash") == 0) {
			if (i + 2 >= argc)
				return usage_err(err, errlen, "%s needs USER and PASSWORD", a);
			c->action = CLI_HASH;
			c->hash_user = argv[++i];
			c->hash_pass = strdup(argv[++i]);
			if (c->hash_pass == NULL)
				return usage_err(err, errlen, "%s: out of memory", a);
			wipe_arg(argv[i]); /* ps no longer shows the password */
		} else {
			return usage_err(err, errlen,
					 "unknown option '%s' (connectd -h lists them)", a);
		}
	}
	if ((c->action == CLI_RUN || c->action == CLI_CHECK) && c->source == CLI_SRC_NONE)
		return usage_err(err, errlen, "%s", "nothing to do: give -f FILE, -e, -c or -p");
	return 0;
}

/* Decode a base64 command-line parameter into a NUL-terminated string.
 * printable: only bytes 0x21..0x7e (a user name, as the wire allows). */
static int
b64_param(const char *in, char *out, size_t cap, int printable)
{
	size_t n;

	if (b64_decode(in, strlen(in), (uint8_t *)out, cap - 1, &n) == -1 || n == 0)
		return -1;
	out[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (out[i] == '\0' || out[i] == '\n' || out[i] == '\r' ||
		    (printable && (out[i] < 0x21 || out[i] > 0x7e)))
			return -1;
	return 0;
}

/* -c / -p: check each parameter, then build the same provisioning text a
 * file would hold, so defaults and final checks live in one place (prov). */
static int
provision_positional(struct cli *c, struct prov *p, char *err, size_t errlen)
{
	const char *opt = c->source == CLI_SRC_C ? "-c" : "-p";
	char user[PROV_USER_MAX], pass[PROV_PASS_MAX], hash_hex[2 * AUTH_HASH_LEN + 1];
	uint8_t hash[AUTH_HASH_LEN];
	char text[1024];
	const char *why, *bind = "127.0.0.1", *restrict_ip = "0.0.0.0", *maxd = "12";
	const char *life = "0", *idle = "0";
	p2p_uid uid;
	uint64_t v;
	int k = 5, rc = -1;
	struct sockaddr_storage ss;
	socklen_t sl;

	if (b64_param(c->pos[0], user, sizeof(user), 1) == -1) {
		snprintf(err, errlen,
			 "%s parameter 1 (user): not valid base64 of a user name of 1-64 printable "
			 "characters without spaces",
			 opt);
		goto out;
	}
	if (c->source == CLI_SRC_C) {
		if (b64_param(c->pos[1], pass, sizeof(pass), 0) == -1) {
			snprintf(err, errlen,
				 "%s parameter 2 (password): not valid base64 of a password", opt);
			goto out;
		}
	} else if (hex_decode(c->pos[1], hash, sizeof(hash)) == -1) {
		snprintf(err, errlen,
			 "%s parameter 2 (auth_hash): expected 40 hex digits (connectd --hash USER "
			 "PASSWORD prints it)",
			 opt);
		goto out;
	}
	if (uid_parse(c->pos[2], &uid, &why) == -1) {
		snprintf(err, errlen, "%s parameter 3 (UID) '%s': %s", opt, c->pos[2], why);
		goto out;
	}
	if ((c->pos[3][0] != 'T' && c->pos[3][0] != 't') ||
	    parse_u64(c->pos[3] + 1, 1, 65535, &v, &why) == -1) {
		snprintf(err, errlen,
			 "%s parameter 4 (local port) '%s': should look like T33000 (T and a port "
			 "1-65535)",
			 opt, c->pos[3]);
		goto out;
	}
	if (parse_u64(c->pos[4], 0, 3, &v, &why) == -1) {
		snprintf(err, errlen,
			 "%s parameter 5 (encryption) '%s': expected 0 (none), 1 (RC4), 2 (XXTEA) "
			 "or 3 (ChaCha20-Poly1305)",
			 opt, c->pos[4]);
		goto out;
	}
	if (k < c->npos) {
		bind = c->pos[k++];
		if (parse_ip(bind, 0, &ss, &sl) == -1) {
			snprintf(err, errlen,
				 "%s parameter 6 (bind address) '%s': expected a numeric IP "
				 "address such as 127.0.0.1",
				 opt, bind);
			goto out;
		}
	}
	if (c->source == CLI_SRC_P && k < c->npos) {
		restrict_ip = c->pos[k++];
		if (parse_ip(restrict_ip, 0, &ss, &sl) == -1) {
			snprintf(err, errlen,
				 "%s parameter 7 (restrict ip) '%s': expected a numeric IP "
				 "address, 0.0.0.0 for any",
				 opt, restrict_ip);
			goto out;
		}
	}
	if (k < c->npos) {
		maxd = c->pos[k++];
		if (parse_u64(maxd, 1, 256, &v, &why) == -1) {
			snprintf(err, errlen,
				 "%s parameter %d (max outstanding) '%s': expected a number from 1 "
				 "to 256",
				 opt, k, maxd);
			goto out;
		}
	}
	if (k < c->npos) {
		life = c->pos[k++];
		if (parse_u64(life, 0, 525600, &v, &why) == -1) {
			snprintf(err, errlen,
				 "%s parameter %d (lifetime) '%s': expected minutes, 0 for none",
				 opt, k, life);
			goto out;
		}
	}
	if (k < c->npos) {
		idle = c->pos[k++];
		if (parse_u64(idle, 0, 31536000, &v, &why) == -1) {
			snprintf(err, errlen,
				 "%s parameter %d (idle limit) '%s': expected seconds, 0 for none",
				 opt, k, idle);
			goto out;
		}
	}
	if (k < c->npos) {
		snprintf(err, errlen, "%s: unexpected parameter '%s'", opt, c->pos[k]);
		goto out;
	}
	/* Every parameter checked: now the (slow, memory-hungry) derivation. */
	if (c->source == CLI_SRC_C && auth_hash_derive(user, pass, hash) == -1) {
		snprintf(err, errlen, "%s: cannot derive the auth_hash (out of memory)", opt);
		goto out;
	}
	hex_encode(hash, sizeof(hash), hash_hex);
	snprintf(text, sizeof(text),
		 "user_id %s\nauth_hash %s\nremote_address %s\nproxy_local_port %s\n"
		 "encryption %s\nproxy_bind_address %s\nrestrict_ip %s\nmax_depth %s\n"
		 "lifetime %s\nidle_limit %s\n",
		 user, hash_hex, c->pos[2], c->pos[3] + 1, c->pos[4], bind, restrict_ip, maxd, life,
		 idle);
	rc = prov_load_text("command line", text, strlen(text), p, err, errlen);
out:
	sodium_memzero(pass, sizeof(pass));
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(hash_hex, sizeof(hash_hex));
	sodium_memzero(text, sizeof(text));
	wipe_arg(c->pos[0]);
	wipe_arg(c->pos[1]);
	return rc;
}

int
cli_provision(struct cli *c, struct prov *p, char *err, size_t errlen)
{
	switch (c->source) {
	case CLI_SRC_FILE:
		return prov_load_file(c->file, p, err, errlen, PROV_CHECK_PERMS);
	case CLI_SRC_TEXT: {
		int rc = prov_load_text("-e", c->text, c->textlen, p, err, errlen);
		sodium_memzero(c->text, c->textlen);
		return rc;
	}
	case CLI_SRC_C:
	case CLI_SRC_P:
		return provision_positional(c, p, err, errlen);
	default:
		snprintf(err, errlen, "no provisioning given (-f, -e, -c or -p)");
		return -1;
	}
}

void
cli_free(struct cli *c)
{
	if (c->hash_pass != NULL) {
		sodium_memzero(c->hash_pass, strlen(c->hash_pass));
		free(c->hash_pass);
		c->hash_pass = NULL;
	}
	if (c->text != NULL) {
		sodium_memzero(c->text, c->textlen);
		free(c->text);
		c->text = NULL;
	}
}
