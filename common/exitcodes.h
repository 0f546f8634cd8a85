/* Exit codes of connectd (DESIGN section 9); p2pd and p2pctl reuse the generic ones. */
#ifndef P2PD_EXITCODES_H
#define P2PD_EXITCODES_H

enum p2p_exit {
	EXIT_OK = 0,
	EXIT_LIFETIME = 1,	  /* lifetime or idle limit expired */
	EXIT_PEER_SHUTDOWN = 2,	  /* shutdown by peer */
	EXIT_SIGNAL = 3,	  /* ended by a signal (SIGINT, SIGTERM) */
	EXIT_DISABLED = 4,	  /* disabled by config (autoconnect 0 standalone) */
	EXIT_BAD_USER = 10,	  /* unknown user */
	EXIT_AUTH = 11,		  /* bad credentials, or UID not allowed */
	EXIT_AUTOCONNECT = 12,	  /* autoconnect failed */
	EXIT_SESSION = 13,	  /* session create failed */
	EXIT_TARGET_TIMEOUT = 14, /* target not online / did not answer */
	EXIT_NO_UID = 15,	  /* no UID given */
	EXIT_BIND_UDP = 16,	  /* cannot bind the UDP socket */
	EXIT_BIND_PROXY = 17,	  /* cannot bind the local proxy port */
	EXIT_PEER_GONE = 20,	  /* peer closed or timed out */
	EXIT_P2P_FAILED = 21,	  /* P2P connect failed */
	EXIT_UNKNOWN = 25,
	EXIT_USAGE = 64,  /* EX_USAGE: bad command line */
	EXIT_CONFIG = 78, /* EX_CONFIG: invalid provisioning file */
};

#endif
