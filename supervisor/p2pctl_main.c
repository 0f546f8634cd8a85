/* p2pctl: the control client of p2pd. See docs/man/p2pctl.8. */
#include "supervisor/p2pctl.h"

int
main(int argc, char **argv)
{
	return p2pctl_cli(argc, argv);
}
