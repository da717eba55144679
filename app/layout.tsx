import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Providers } from "@/components/providers";
import "./globals.css";

// Every page is rendered per request, the login page and not-found included: Next.js can only put
// the proxy's per-response CSP nonce on the scripts of a page it renders now (a prerendered page's
// scripts would carry none and be refused).
export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: "indexdeck", description: "Roll out PostgreSQL indexes safely and prove what they did" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
