package io.jrbd.metadata.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StoreExceptionTest {
    @ParameterizedTest(name = "\"{0}\" is {1}")
    @CsvSource({
        "No space left on device, NO_SPACE",
        "Disk quota exceeded, NO_SPACE",
        "File too large, NO_SPACE",
        "Input/output error, IO",
        "Bad file descriptor, IO",
        "Read-only file system, IO"
    })
    void shouldClassifyJdkExceptionsByTheirStrerrorText(String message, StoreException.Kind kind) {
        IOException cause = new IOException(message);

        StoreException e = StoreException.from("write to /x at 4096", cause);

        assertEquals(kind, e.kind());
        assertSame(cause, e.getCause());
        assertTrue(e.getMessage().startsWith("write to /x at 4096: "), e.getMessage());
        assertTrue(e.getMessage().endsWith(message), e.getMessage());
    }

    @Test
    void shouldNameExceptionThatCarriesNoMessage() {
        StoreException e = StoreException.from("fdatasync of /x", new ClosedChannelException());

        assertEquals("fdatasync of /x: ClosedChannelException", e.getMessage());
        assertEquals(StoreException.Kind.IO, e.kind());
    }
}
