import { NextResponse } from "next/server";
import { openApiDocument } from "@/lib/api/openapi";

export const dynamic = "force-static";

/** The API's OpenAPI 3.1 description: public, like the login page; it holds no data, only the shape of the routes. */
export async function GET() {
  return NextResponse.json(openApiDocument());
}
