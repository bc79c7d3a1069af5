/** A minimal test harness: counts checks, prints failures and "N passed, M failed". */
final class Checks {
    interface Body {
        void run() throws Exception;
    }

    private static int passed;
    private static int failed;

    private Checks() {
    }

    /** Runs one named test; an exception counts as one failure. */
    static void test(String name, Body body) {
        int before = failed;
        try {
            body.run();
        } catch (Throwable error) {
            failed++;
            System.out.println("  exception: " + error);
            error.printStackTrace(System.out);
        }
        System.out.println((failed == before ? "ok   " : "FAIL ") + name);
    }

    static void check(boolean ok, String what) {
        if (ok) {
            passed++;
        } else {
            failed++;
            System.out.println("  failed: " + what);
        }
    }

    /** Prints the summary and exits: 0 only if something passed and nothing failed. */
    static void finish() {
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 && passed > 0 ? 0 : 1);
    }
}
